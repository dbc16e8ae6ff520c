package cfn

import (
	"reflect"
	"testing"
)

func TestReferences(t *testing.T) {
	tmpl := mustParse(t, "Parameters:\n  Env: {Type: String, Default: x}\n"+minimal)
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"none", `{a: 1, b: [x]}`, nil},
		{"Ref", `{a: !Ref Table, b: !Ref Env, c: !Ref AWS::Region}`, []string{"Table"}},
		{"GetAtt forms", `[!GetAtt Role.Arn, {Fn::GetAtt: Db.Endpoint.Port}, !GetAtt [Queue, !Ref Env]]`, []string{"Db", "Queue", "Role"}},
		{"Sub string", `!Sub "${Env}-${AWS::StackName}-${Bucket}-${Fn.Arn}-${!Literal}"`, []string{"Bucket", "Fn"}},
		{"Sub list", `!Sub ["${Local}-${Table}-${Local.Attr}", {Local: !Ref Key, Local.Attr: x}]`, []string{"Key", "Table"}},
		{"nested and deduplicated", `!Join ["", [!Ref B, !If [C, !Ref A, !Ref B], !Select [0, !Split [",", !GetAtt A.List]]]]`, []string{"A", "B"}},
		{"unknown names are kept", `!Ref Nope`, []string{"Nope"}},
		{"NoValue", `!Ref AWS::NoValue`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tmpl.References(yamlValue(t, tc.in)); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("References = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	const head = "Parameters:\n  Env: {Type: String, Default: dev}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n  IsDev: !Equals [!Ref Env, dev]\nResources:\n"
	for _, tc := range []struct {
		name, resources string
		want            []string
		err             string
	}{
		{name: "declaration order", resources: "C: {Type: X}\nA: {Type: X}\nB: {Type: X}", want: []string{"C", "A", "B"}},
		{name: "references first", resources: "Fn: {Type: X, Properties: {Role: !GetAtt Role.Arn, Table: !Ref Table}}\nTable: {Type: X}\nRole: {Type: X}",
			want: []string{"Table", "Role", "Fn"}},
		{name: "earliest ready goes first", resources: "A: {Type: X, Properties: {P: !Ref D}}\nB: {Type: X}\nC: {Type: X, DependsOn: B}\nD: {Type: X}",
			want: []string{"B", "C", "D", "A"}},
		{name: "DependsOn", resources: "A: {Type: X, DependsOn: [C, B]}\nB: {Type: X, DependsOn: C}\nC: {Type: X}", want: []string{"C", "B", "A"}},
		{name: "Sub references", resources: "A: {Type: X, Properties: {P: !Sub '${B.Arn}/${C}/${Env}/${AWS::Region}'}}\nB: {Type: X}\nC: {Type: X}",
			want: []string{"B", "C", "A"}},
		{name: "Metadata UpdatePolicy CreationPolicy", resources: "A: {Type: X, Metadata: {M: !Ref B}, UpdatePolicy: {U: !Ref C}, CreationPolicy: {P: !Ref D}}\nB: {Type: X}\nC: {Type: X}\nD: {Type: X}",
			want: []string{"B", "C", "D", "A"}},
		{name: "excluded resources are left out", resources: "A: {Type: X, Condition: IsProd}\nB: {Type: X}", want: []string{"B"}},
		{name: "untaken If branch", resources: "A: {Type: X, Condition: IsProd}\nB: {Type: X, Properties: {P: !If [IsProd, !Ref A, !Ref AWS::NoValue]}}",
			want: []string{"B"}},
		{name: "taken If branch", resources: "A: {Type: X, Condition: IsDev}\nB: {Type: X, Properties: {P: !If [IsDev, !GetAtt A.Arn, none]}}",
			want: []string{"A", "B"}},
		{name: "reference to an excluded resource", resources: "A: {Type: X, Condition: IsProd}\nB: {Type: X, Properties: {P: !Ref A}}",
			err: "Template format error: Unresolved resource dependencies [A] in the Resources block of the template"},
		{name: "DependsOn an excluded resource", resources: "A: {Type: X, Condition: IsProd}\nB: {Type: X, DependsOn: A}",
			err: "Template format error: Unresolved resource dependencies [A] in the Resources block of the template"},
		{name: "excluded resources may refer to anything", resources: "A: {Type: X, Condition: IsProd, Properties: {P: !Ref Nope}}\nB: {Type: X}", want: []string{"B"}},
		{name: "unknown references", resources: "A: {Type: X, Properties: {P: !Ref Zed, Q: !GetAtt Env.Arn}, DependsOn: Nope}",
			err: "Template format error: Unresolved resource dependencies [Env, Nope, Zed] in the Resources block of the template"},
		{name: "cycle", resources: "A: {Type: X, Properties: {P: !Ref B}}\nB: {Type: X, DependsOn: A}\nC: {Type: X, DependsOn: A}\nD: {Type: X}",
			err: "Circular dependency between resources: [A, B]"},
		{name: "two cycles", resources: "A: {Type: X, DependsOn: B}\nB: {Type: X, DependsOn: A}\nC: {Type: X, Properties: {P: !Sub '${D.Arn}'}}\nD: {Type: X, Properties: {P: !Ref C}}",
			err: "Circular dependency between resources: [A, B, C, D]"},
		{name: "self reference", resources: "A: {Type: X, Properties: {Name: !Ref A}}\nB: {Type: X}", err: "Circular dependency between resources: [A]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustEvaluator(t, mustParse(t, head+indent(tc.resources, "  ")+"\n"), nil)
			got, err := e.Order()
			if checkErr(t, err, tc.err) && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Order = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOutputs(t *testing.T) {
	const head = "Parameters:\n  Env: {Type: String, Default: dev}\n  Ids: {Type: CommaDelimitedList, Default: 'a,b'}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n" +
		"Resources:\n  Fn: {Type: X}\n  Prod: {Type: X, Condition: IsProd}\nOutputs:\n"
	for _, tc := range []struct {
		name, outputs string
		want          map[string]string
		err           string
	}{
		{name: "values", outputs: "Arn: {Value: !GetAtt Fn.Arn, Export: {Name: !Sub '${AWS::StackName}-arn'}}\nName: {Value: !Ref Fn}\nN: {Value: 3}\nIds: {Value: !Ref Ids}\nAZs: {Value: !GetAtt Fn.AZs}",
			want: map[string]string{"Arn": "arn-Fn.Arn", "Name": "ref-Fn", "N": "3", "Ids": "a,b", "AZs": "az1,az2"}},
		{name: "condition", outputs: "A: {Value: !Ref Prod, Condition: IsProd}\nB: {Value: !If [IsProd, !Ref Prod, none]}", want: map[string]string{"B": "none"}},
		{name: "map value", outputs: "M: {Value: {a: b}}", err: "Outputs.M.Value: an output value must be a string or a list of strings"},
		{name: "NoValue", outputs: "M: {Value: !Ref AWS::NoValue}", err: "Outputs.M.Value: an output value must be a string"},
		{name: "excluded resource", outputs: "A: {Value: !Ref Prod}", err: "Outputs.A.Value: Template format error: Unresolved resource dependencies [Prod]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustEvaluator(t, mustParse(t, head+indent(tc.outputs, "  ")+"\n"), nil)
			got, err := e.Outputs(fakeRefs{})
			if checkErr(t, err, tc.err) && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Outputs = %v, want %v", got, tc.want)
			}
		})
	}
}
