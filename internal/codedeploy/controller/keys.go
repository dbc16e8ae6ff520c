package controller

// The store keys of the controller, all under cd/ (doc.go describes what each holds and who writes it). Every key the
// package reads or writes is built here.
const (
	prefixRoot   = "cd/" // Run watches it all
	prefixApp    = "cd/app/"
	prefixGroup  = "cd/dg/"
	prefixConfig = "cd/dc/"
	prefixDep    = "cd/dep/"
	prefixOpen   = "cd/open/"
	prefixIntent = "cd/intent/"
	prefixHook   = "cd/hook/"
	prefixSettle = "cd/settle/"
)

func appKey(name string) string           { return prefixApp + name }
func groupPrefix(app string) string       { return prefixGroup + app + "/" }
func groupKey(app, group string) string   { return groupPrefix(app) + group }
func configKey(name string) string        { return prefixConfig + name }
func depKey(id string) string             { return prefixDep + id }
func openKey(id string) string            { return prefixOpen + id }
func intentKey(id string) string          { return prefixIntent + id }
func hookPrefix(id string) string         { return prefixHook + id + "/" }
func hookKey(id, execution string) string { return hookPrefix(id) + execution }
func settleKey(id string) string          { return prefixSettle + id }
