package cloudwatchapi

import "time"

// The wire shapes of the CloudWatch 2010-08-01 model for the operations Sluice serves. Field names are the
// model's member names; pointers, nil slices and nil maps are absent members (see package wire). Members Sluice
// accepts but has no use for are listed so that they decode (and are checked where AWS checks them).

// ---- common ----

type Dimension struct {
	Name  *string
	Value *string
}

type DimensionFilter struct {
	Name  *string
	Value *string
}

type Tag struct {
	Key   *string
	Value *string
}

type Metric struct {
	Namespace  *string
	MetricName *string
	Dimensions []Dimension
}

// ---- PutMetricAlarm ----

type PutMetricAlarmInput struct {
	AlarmName                        *string
	AlarmDescription                 *string
	ActionsEnabled                   *bool
	OKActions                        []string
	AlarmActions                     []string
	InsufficientDataActions          []string
	MetricName                       *string
	Namespace                        *string
	Statistic                        *string
	ExtendedStatistic                *string
	Dimensions                       []Dimension
	Period                           *int
	Unit                             *string
	EvaluationPeriods                *int
	DatapointsToAlarm                *int
	Threshold                        *float64
	ComparisonOperator               *string
	TreatMissingData                 *string
	EvaluateLowSampleCountPercentile *string
	Metrics                          []MetricDataQuery
	Tags                             []Tag
	ThresholdMetricId                *string
	EvaluationCriteria               *EvaluationCriteria
	EvaluationInterval               *int
}

// EvaluationCriteria (PromQL alarms) is decoded only to be refused.
type EvaluationCriteria struct {
	PromQLCriteria *struct {
		Query          *string
		PendingPeriod  *int
		RecoveryPeriod *int
	}
}

// ---- DescribeAlarms, DescribeAlarmsForMetric ----

type DescribeAlarmsInput struct {
	AlarmNames          []string
	AlarmNamePrefix     *string
	AlarmTypes          []string
	ChildrenOfAlarmName *string
	ParentsOfAlarmName  *string
	StateValue          *string
	ActionPrefix        *string
	MaxRecords          *int
	NextToken           *string
}

type DescribeAlarmsOutput struct {
	CompositeAlarms []CompositeAlarm
	MetricAlarms    []MetricAlarm
	NextToken       *string
}

type CompositeAlarm struct {
	ActionsEnabled                     *bool
	AlarmActions                       []string
	AlarmArn                           *string
	AlarmConfigurationUpdatedTimestamp *time.Time
	AlarmDescription                   *string
	AlarmName                          *string
	AlarmRule                          *string
	InsufficientDataActions            []string
	OKActions                          []string
	StateReason                        *string
	StateReasonData                    *string
	StateUpdatedTimestamp              *time.Time
	StateValue                         *string
	StateTransitionedTimestamp         *time.Time
	ActionsSuppressor                  *string
	ActionsSuppressorWaitPeriod        *int
	ActionsSuppressorExtensionPeriod   *int
}

// ---- PutCompositeAlarm ----

type PutCompositeAlarmInput struct {
	ActionsEnabled                   *bool
	AlarmActions                     []string
	AlarmDescription                 *string
	AlarmName                        *string
	AlarmRule                        *string
	InsufficientDataActions          []string
	OKActions                        []string
	Tags                             []Tag
	ActionsSuppressor                *string
	ActionsSuppressorWaitPeriod      *int
	ActionsSuppressorExtensionPeriod *int
}

type MetricAlarm struct {
	AlarmName                          *string
	AlarmArn                           *string
	AlarmDescription                   *string
	AlarmConfigurationUpdatedTimestamp *time.Time
	ActionsEnabled                     *bool
	OKActions                          []string
	AlarmActions                       []string
	InsufficientDataActions            []string
	StateValue                         *string
	StateReason                        *string
	StateReasonData                    *string
	StateUpdatedTimestamp              *time.Time
	MetricName                         *string
	Namespace                          *string
	Statistic                          *string
	ExtendedStatistic                  *string
	Dimensions                         []Dimension
	Period                             *int
	Unit                               *string
	EvaluationPeriods                  *int
	DatapointsToAlarm                  *int
	Threshold                          *float64
	ComparisonOperator                 *string
	TreatMissingData                   *string
	EvaluateLowSampleCountPercentile   *string
	Metrics                            []MetricDataQuery
	StateTransitionedTimestamp         *time.Time
}

type DescribeAlarmsForMetricInput struct {
	MetricName        *string
	Namespace         *string
	Statistic         *string
	ExtendedStatistic *string
	Dimensions        []Dimension
	Period            *int
	Unit              *string
}

type DescribeAlarmsForMetricOutput struct {
	MetricAlarms []MetricAlarm
}

// ---- DeleteAlarms, EnableAlarmActions, DisableAlarmActions ----

type AlarmNamesInput struct {
	AlarmNames []string
}

// ---- SetAlarmState ----

type SetAlarmStateInput struct {
	AlarmName       *string
	StateValue      *string
	StateReason     *string
	StateReasonData *string
}

// ---- DescribeAlarmHistory ----

type DescribeAlarmHistoryInput struct {
	AlarmName          *string
	AlarmContributorId *string
	AlarmTypes         []string
	HistoryItemType    *string
	StartDate          *time.Time
	EndDate            *time.Time
	MaxRecords         *int
	NextToken          *string
	ScanBy             *string
}

type DescribeAlarmHistoryOutput struct {
	AlarmHistoryItems []AlarmHistoryItem
	NextToken         *string
}

type AlarmHistoryItem struct {
	AlarmName       *string
	AlarmType       *string
	Timestamp       *time.Time
	HistoryItemType *string
	HistorySummary  *string
	HistoryData     *string
}

// ---- GetMetricStatistics ----

type GetMetricStatisticsInput struct {
	Namespace          *string
	MetricName         *string
	Dimensions         []Dimension
	StartTime          *time.Time
	EndTime            *time.Time
	Period             *int
	Statistics         []string
	ExtendedStatistics []string
	Unit               *string
}

type GetMetricStatisticsOutput struct {
	Label      *string
	Datapoints []Datapoint
}

type Datapoint struct {
	Timestamp          *time.Time
	SampleCount        *float64
	Average            *float64
	Sum                *float64
	Minimum            *float64
	Maximum            *float64
	Unit               *string
	ExtendedStatistics map[string]float64
}

// ---- GetMetricData ----

type MetricDataQuery struct {
	Id         *string
	MetricStat *MetricStat
	Expression *string
	Label      *string
	ReturnData *bool
	Period     *int
	AccountId  *string
}

type MetricStat struct {
	Metric *Metric
	Period *int
	Stat   *string
	Unit   *string
}

type LabelOptions struct {
	Timezone *string
}

type GetMetricDataInput struct {
	MetricDataQueries []MetricDataQuery
	StartTime         *time.Time
	EndTime           *time.Time
	NextToken         *string
	ScanBy            *string
	MaxDatapoints     *int
	LabelOptions      *LabelOptions
}

type GetMetricDataOutput struct {
	MetricDataResults []MetricDataResult
	NextToken         *string
	Messages          []MessageData
}

type MetricDataResult struct {
	Id         *string
	Label      *string
	Timestamps []time.Time
	Values     []float64
	StatusCode *string
	Messages   []MessageData
}

type MessageData struct {
	Code  *string
	Value *string
}

// ---- ListMetrics ----

type ListMetricsInput struct {
	Namespace             *string
	MetricName            *string
	Dimensions            []DimensionFilter
	NextToken             *string
	RecentlyActive        *string
	IncludeLinkedAccounts *bool
	OwningAccount         *string
}

type ListMetricsOutput struct {
	Metrics   []Metric
	NextToken *string
}

// ---- PutMetricData ----

type PutMetricDataInput struct {
	Namespace              *string
	MetricData             []MetricDatum
	EntityMetricData       []EntityMetricData
	StrictEntityValidation *bool
}

type MetricDatum struct {
	MetricName        *string
	Dimensions        []Dimension
	Timestamp         *time.Time
	Value             *float64
	StatisticValues   *StatisticSet
	Values            []float64
	Counts            []float64
	Unit              *string
	StorageResolution *int
}

type StatisticSet struct {
	SampleCount *float64
	Sum         *float64
	Minimum     *float64
	Maximum     *float64
}

type EntityMetricData struct {
	Entity     *Entity
	MetricData []MetricDatum
}

type Entity struct {
	KeyAttributes map[string]string
	Attributes    map[string]string
}
