package cfn_test

import (
	"fmt"

	"github.com/sluice-dev/sluice/internal/cfn"
)

// placeholders answers a dry run's references.
type placeholders struct{}

func (placeholders) Ref(id string) (any, error)          { return "<" + id + ">", nil }
func (placeholders) GetAtt(id, attr string) (any, error) { return "<" + id + "." + attr + ">", nil }

func Example() {
	tmpl, err := cfn.Parse([]byte(`
Parameters:
  Stage: {Type: String, AllowedValues: [dev, prod]}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Handler:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
      MemorySize: !If [IsProd, 1024, !Ref AWS::NoValue]
      Environment:
        Variables:
          STAGE: !Sub "${Stage}-${AWS::Region}"
  Role:
    Type: AWS::IAM::Role
Outputs:
  Arn:
    Value: !GetAtt Handler.Arn
`))
	if err != nil {
		fmt.Println("template.yaml", err)
		return
	}
	e, err := cfn.NewEvaluator(tmpl, cfn.Pseudo{Region: "eu-west-1"}, map[string]string{"Stage": "dev"})
	if err != nil {
		fmt.Println(err)
		return
	}
	order, _ := e.Order()
	fmt.Println(order)
	for _, id := range order {
		props, err := e.Eval(tmpl.Resources[id].Properties, placeholders{}, "Resources."+id+".Properties")
		fmt.Println(id, props, err)
	}
	fmt.Println(e.Outputs(placeholders{}))

	_, err = cfn.NewEvaluator(tmpl, cfn.Pseudo{}, map[string]string{"Stage": "qa"})
	fmt.Println(err)
	// Output:
	// [Role Handler]
	// Role map[] <nil>
	// Handler map[Environment:map[Variables:map[STAGE:dev-eu-west-1]] Role:<Role.Arn>] <nil>
	// map[Arn:<Handler.Arn>] <nil>
	// Parameter 'Stage' must be one of AllowedValues
}
