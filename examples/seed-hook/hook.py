"""The seed article's pre-traffic hook, verbatim, with the run_smoke_tests() the article leaves undefined.

CodeDeploy invokes a hook with only {"DeploymentId", "LifecycleEventHookExecutionId"}; the hook checks the new version
and reports Succeeded or Failed with PutLifecycleEventHookExecutionStatus. Without a run_smoke_tests() of its own,
the article's handler raises NameError inside its try, so every run reports Failed and every deployment rolls back.

Configuration (environment variables of the hook function):
  TARGET_VERSION    the version to test: a qualified function name or ARN, e.g. orders:2 (required)
  SMOKE_TEST_EVENT  the event to invoke it with, as JSON (default {})
"""

import os

import boto3

codedeploy = boto3.client("codedeploy")
lambda_client = boto3.client("lambda")


# ---- the seed's handler, verbatim (its comments translated) ----
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


# ---- what the seed leaves to you ----
def run_smoke_tests():
    """Invoke TARGET_VERSION once with SMOKE_TEST_EVENT; raise if the invocation fails or the function errs.

    Any exception here makes the handler report Failed. Replace the body with your own checks (call the version
    with a few known events and compare the answers); print what failed, so it shows in the hook's log
    (`sluice logs CodeDeployHook_...`), because the handler reports only the status.
    """
    target = os.environ["TARGET_VERSION"]
    event = os.environ.get("SMOKE_TEST_EVENT", "{}")
    resp = lambda_client.invoke(FunctionName=target, Payload=event.encode())
    body = resp["Payload"].read().decode(errors="replace")
    if "FunctionError" in resp:
        print(f"smoke test of {target} FAILED: {resp['FunctionError']}: {body[:500]}")
        raise RuntimeError(f"{target}: {resp['FunctionError']}")
    print(f"smoke test of {target} passed (executed version {resp.get('ExecutedVersion')}): {body[:200]}")
