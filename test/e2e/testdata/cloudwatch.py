"""CloudWatch through boto3: the seed's alarm, its state and history, custom metrics in and statistics out.

boto3 speaks whichever of CloudWatch's protocols its botocore prefers (JSON 1.0 for botocore 1.43; the model also
offers smithy-rpc-v2-cbor and query). The script prints the protocol it used.
"""
import datetime
import json

import boto3
from botocore.config import Config
from sluice_e2e import expect_error

cw = boto3.client("cloudwatch", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
model = cw.meta.service_model
print("protocol:", getattr(model, "resolved_protocol", model.protocol))

DIMS = [{"Name": "FunctionName", "Value": "orders"}, {"Name": "Resource", "Value": "orders:live"}]

# The seed's alarm.
cw.put_metric_alarm(
    AlarmName="orders-errors",
    Namespace="AWS/Lambda",
    MetricName="Errors",
    Dimensions=DIMS,
    Statistic="Sum",
    Period=60,
    EvaluationPeriods=1,
    Threshold=1,
    ComparisonOperator="GreaterThanOrEqualToThreshold",
)
alarms = cw.describe_alarms(AlarmNames=["orders-errors"])["MetricAlarms"]
assert len(alarms) == 1, alarms
a = alarms[0]
for key, want in {
    "AlarmName": "orders-errors", "Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum",
    "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "ActionsEnabled": True,
}.items():
    assert a.get(key) == want, f"{key}: {a.get(key)!r}, want {want!r} in {a}"
assert sorted((d["Name"], d["Value"]) for d in a["Dimensions"]) == [("FunctionName", "orders"), ("Resource", "orders:live")], a
assert a["StateValue"] in ("OK", "ALARM", "INSUFFICIENT_DATA"), a
assert a["AlarmArn"].endswith(":alarm:orders-errors"), a
assert isinstance(a["StateUpdatedTimestamp"], datetime.datetime), a

# Force the state; the history records it.
cw.set_alarm_state(AlarmName="orders-errors", StateValue="ALARM", StateReason="e2e: forced",
                   StateReasonData=json.dumps({"source": "e2e"}))
items = cw.describe_alarm_history(AlarmName="orders-errors")["AlarmHistoryItems"]
updates = [i for i in items if i["HistoryItemType"] == "StateUpdate"]
assert any("ALARM" in i.get("HistorySummary", "") + i.get("HistoryData", "") for i in updates), items
assert all(i["AlarmName"] == "orders-errors" and isinstance(i["Timestamp"], datetime.datetime) for i in items), items
expect_error("set_alarm_state of a missing alarm",
             lambda: cw.set_alarm_state(AlarmName="no-such-alarm", StateValue="OK", StateReason="x"),
             "ResourceNotFound", 404)

# Custom metrics: a value, values with counts and a statistic set, all in one minute.
at = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
mdims = [{"Name": "FunctionName", "Value": "orders"}]
cw.put_metric_data(Namespace="Sluice/E2E", MetricData=[
    {"MetricName": "Latency", "Dimensions": mdims, "Timestamp": at, "Value": 10, "Unit": "Milliseconds"},
    {"MetricName": "Latency", "Dimensions": mdims, "Timestamp": at, "Values": [1, 2, 3], "Counts": [1, 1, 2],
     "Unit": "Milliseconds"},
    {"MetricName": "Latency", "Dimensions": mdims, "Timestamp": at, "Unit": "Milliseconds",
     "StatisticValues": {"SampleCount": 4, "Sum": 20, "Minimum": 2, "Maximum": 8}},
])
stats = cw.get_metric_statistics(
    Namespace="Sluice/E2E", MetricName="Latency", Dimensions=mdims,
    StartTime=at - datetime.timedelta(minutes=2), EndTime=at + datetime.timedelta(minutes=2), Period=60,
    Statistics=["Sum", "SampleCount", "Minimum", "Maximum", "Average"],
)
dps = stats["Datapoints"]
assert len(dps) == 1, dps
dp = dps[0]
assert (dp["Sum"], dp["SampleCount"], dp["Minimum"], dp["Maximum"]) == (39, 9, 1, 10), dp
assert abs(dp["Average"] - 39 / 9) < 1e-9, dp
assert dp["Timestamp"] == at, (dp["Timestamp"], at)

metrics = cw.list_metrics(Namespace="Sluice/E2E")["Metrics"]
assert {"Namespace": "Sluice/E2E", "MetricName": "Latency", "Dimensions": mdims} in metrics, metrics

expect_error("put_metric_data into AWS/", lambda: cw.put_metric_data(
    Namespace="AWS/Lambda", MetricData=[{"MetricName": "Errors", "Value": 1}]),
    "InvalidParameterValue", 400, message="The value AWS/ for parameter Namespace is invalid.")

cw.delete_alarms(AlarmNames=["orders-errors"])
assert cw.describe_alarms(AlarmNames=["orders-errors"])["MetricAlarms"] == []
print("ok")
