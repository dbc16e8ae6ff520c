// Package alarmhistory reads, for the bench harnesses, when an alarm went off from its CloudWatch history.
package alarmhistory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// WentOff finds when alarm name's state changed to ALARM after since (the StateUpdate history item's timestamp: the
// server's clock, to the millisecond); DescribeAlarms' StateUpdatedTimestamp is the same instant but is overwritten
// when the alarm returns to OK a second later.
func WentOff(ctx context.Context, cw *cloudwatch.Client, name string, since time.Time) (time.Time, error) {
	out, err := cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String(name),
		HistoryItemType: cwtypes.HistoryItemTypeStateUpdate, StartDate: aws.Time(since.Add(-time.Second)), EndDate: aws.Time(time.Now().Add(time.Second)),
		ScanBy: cwtypes.ScanByTimestampAscending, MaxRecords: aws.Int32(100)})
	if err != nil {
		return time.Time{}, err
	}
	for _, h := range out.AlarmHistoryItems {
		ts := aws.ToTime(h.Timestamp)
		if ts.Before(since) {
			continue
		}
		var data struct {
			NewState struct {
				StateValue string `json:"stateValue"`
			} `json:"newState"`
		}
		_ = json.Unmarshal([]byte(aws.ToString(h.HistoryData)), &data)
		if data.NewState.StateValue == "ALARM" || strings.HasSuffix(aws.ToString(h.HistorySummary), " to ALARM") {
			return ts, nil
		}
	}
	return time.Time{}, fmt.Errorf("no change of %s to ALARM since %s in its history", name, since.Format(time.RFC3339Nano))
}
