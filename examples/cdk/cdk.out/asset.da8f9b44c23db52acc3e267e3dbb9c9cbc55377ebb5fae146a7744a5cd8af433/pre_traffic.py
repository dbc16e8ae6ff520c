"""BeforeAllowTraffic hook: smoke-test the new version directly, before the live alias sends it any traffic.

CodeDeploy's event names only the deployment and this hook execution, not the version; the template passes the
version being deployed as TARGET_VERSION (!Ref OrdersFunction.Version, the version's ARN), as AWS's SAM examples
do. The handler is the seed article's hook, verbatim.
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
        run_smoke_tests()  # invoke the new version (not behind the alias yet) directly and verify it
    except Exception:
        status = "Failed"  # returning Failed here stops the switch and rolls back
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId=hook_id, status=status,
    )
    return {"status": status}


def run_smoke_tests():
    check_orders(os.environ["TARGET_VERSION"])
