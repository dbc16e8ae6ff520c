"""AfterAllowTraffic hook: once the live alias sends all its traffic to the new version, check through the alias
that it is the new version that answers, and that it answers right.

The handler is the seed article's hook, verbatim; a Failed status here rolls the alias back to the old version.
"""

import os

import boto3

from orders_check import check_orders

codedeploy = boto3.client("codedeploy")


def handler(event, context):
    deployment_id = event["DeploymentId"]
    hook_id = event["LifecycleEventHookExecutionId"]
    status = "Succeeded"
    try:
        run_smoke_tests()  # call through the alias, now fully switched, and verify
    except Exception:
        status = "Failed"  # returning Failed here rolls back
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId=hook_id, status=status,
    )
    return {"status": status}


def run_smoke_tests():
    # TARGET_VERSION is the new version's ARN, arn:aws:lambda:<region>:<account>:function:<name>:<number>.
    target = os.environ["TARGET_VERSION"].rsplit(":", 1)[1]
    executed = check_orders(os.environ["FUNCTION_NAME"] + ":" + os.environ["ALIAS_NAME"])
    if executed != target:
        print(f"the alias is served by version {executed}, not the deployed version {target}")
        raise AssertionError(f"executed version {executed}, want {target}")
