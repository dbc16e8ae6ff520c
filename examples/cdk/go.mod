// This Node (CDK) project is not Go code: the go.mod keeps its node_modules, which ship Go templates, out of
// the sluice module (go build ./..., go mod tidy).
module example.com/sluice-cdk-example

go 1.26
