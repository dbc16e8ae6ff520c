"""Every Lambda waiter of boto3 against a server that holds each settle for 1 s."""
import threading

from sluice_e2e import client, create, make_zip

c = client()
cfg = {"Delay": 1, "MaxAttempts": 90}

# function_exists: the function is created by another thread after the waiter has seen it missing.
first_call = threading.Event()
c.meta.events.register("after-call.lambda.GetFunction", lambda **kwargs: first_call.set())
created = {}


def create_later():
    if not first_call.wait(60):
        created["error"] = "the waiter never called GetFunction"
        return
    try:
        created["resp"] = create(client(), "orders")
    except Exception as e:  # reported by the main thread
        created["error"] = repr(e)


t = threading.Thread(target=create_later)
t.start()
c.get_waiter("function_exists").wait(FunctionName="orders", WaiterConfig=cfg)
t.join(60)
assert "error" not in created, f"creating from the other thread failed: {created.get('error')}"
assert created["resp"]["State"] == "Pending", created["resp"]["State"]

c.get_waiter("function_active_v2").wait(FunctionName="orders", WaiterConfig=cfg)
assert c.get_function(FunctionName="orders")["Configuration"]["State"] == "Active"

r = create(c, "second")
assert r["State"] == "Pending", r["State"]
c.get_waiter("function_active").wait(FunctionName="second", WaiterConfig=cfg)
assert c.get_function_configuration(FunctionName="second")["State"] == "Active"

r = c.update_function_code(FunctionName="orders", ZipFile=make_zip("orders v2"))
assert r["LastUpdateStatus"] == "InProgress", r["LastUpdateStatus"]
c.get_waiter("function_updated_v2").wait(FunctionName="orders", WaiterConfig=cfg)
assert c.get_function(FunctionName="orders")["Configuration"]["LastUpdateStatus"] == "Successful"

r = c.update_function_configuration(FunctionName="orders", MemorySize=256)
assert r["LastUpdateStatus"] == "InProgress", r["LastUpdateStatus"]
c.get_waiter("function_updated").wait(FunctionName="orders", WaiterConfig=cfg)
got = c.get_function_configuration(FunctionName="orders")
assert got["LastUpdateStatus"] == "Successful" and got["MemorySize"] == 256, got

v = c.publish_version(FunctionName="orders")
c.get_waiter("published_version_active").wait(FunctionName="orders", Qualifier=v["Version"], WaiterConfig=cfg)
got = c.get_function_configuration(FunctionName="orders", Qualifier=v["Version"])
assert got["State"] == "Active" and got["Version"] == "1", got

print("waiters OK")
