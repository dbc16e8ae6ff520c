VERSION = "v1"


def orders(event, context):
    return {"version": VERSION}
