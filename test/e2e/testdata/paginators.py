"""boto3 paginators: list_functions, list_versions_by_function, list_aliases."""
from sluice_e2e import client, create, wait

c = client()
names = ["pg-7", "pg-3", "pg-5", "pg-1", "pg-6", "pg-2", "pg-4"]
for n in names:
    create(c, n)
for n in names:
    wait(c, "function_active_v2", FunctionName=n)


def pages(paginator, page_size, **kwargs):
    out = []
    for page in c.get_paginator(paginator).paginate(PaginationConfig={"PageSize": page_size}, **kwargs):
        out.append(page)
        assert len(out) <= 50, "runaway pagination"
    return out


got = []
for page in pages("list_functions", 3):
    assert len(page["Functions"]) <= 3, f"page of {len(page['Functions'])} functions, want at most 3"
    got += [f["FunctionName"] for f in page["Functions"]]
assert got == sorted(names), f"list_functions pages gave {got}, want {sorted(names)}"

# MaxItems: the paginator hands back a NextToken to resume from.
first = c.get_paginator("list_functions").paginate(PaginationConfig={"MaxItems": 4, "PageSize": 3}).build_full_result()
assert [f["FunctionName"] for f in first["Functions"]] == sorted(names)[:4], first["Functions"]
assert first.get("NextToken"), "no NextToken after MaxItems=4 of 7"
rest = c.get_paginator("list_functions").paginate(
    PaginationConfig={"MaxItems": 10, "PageSize": 3, "StartingToken": first["NextToken"]}).build_full_result()
assert [f["FunctionName"] for f in rest["Functions"]] == sorted(names)[4:], rest["Functions"]

# 12 versions of pg-1: listed $LATEST first, then ascending numerically.
for i in range(1, 13):
    c.update_function_configuration(FunctionName="pg-1", Description=f"v{i}")
    wait(c, "function_updated_v2", FunctionName="pg-1")
    v = c.publish_version(FunctionName="pg-1")
    assert v["Version"] == str(i), f"published {v['Version']!r}, want {i}"
got = []
for page in pages("list_versions_by_function", 5, FunctionName="pg-1"):
    assert len(page["Versions"]) <= 5, f"page of {len(page['Versions'])} versions"
    got += [v["Version"] for v in page["Versions"]]
want = ["$LATEST"] + [str(i) for i in range(1, 13)]
assert got == want, f"list_versions_by_function gave {got}, want {want}"

got = []
for page in pages("list_functions", 3, FunctionVersion="ALL"):
    got += [(f["FunctionName"], f["Version"]) for f in page["Functions"]]
want = [(n, "$LATEST") for n in names] + [("pg-1", str(i)) for i in range(1, 13)]
assert sorted(got) == sorted(want), f"list_functions ALL gave {got}"

aliases = ["blue", "green", "live", "staging", "canary"]
for i, a in enumerate(aliases, start=1):
    c.create_alias(FunctionName="pg-1", Name=a, FunctionVersion=str(i))
got = []
for page in pages("list_aliases", 2, FunctionName="pg-1"):
    assert len(page["Aliases"]) <= 2, f"page of {len(page['Aliases'])} aliases"
    got += [(a["Name"], a["FunctionVersion"]) for a in page["Aliases"]]
assert sorted(got) == sorted((a, str(i)) for i, a in enumerate(aliases, start=1)), f"list_aliases gave {got}"
assert len(got) == len(aliases), f"list_aliases repeated entries: {got}"

print("paginators OK")
