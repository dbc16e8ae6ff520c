package ssm

import (
	"slices"
	"strings"
)

// StringFilter is a ParameterStringFilter: a key (Name, Type, KeyId, Path, Tier, DataType, Label, tag:<key>), an
// option (Equals unless said; BeginsWith; Contains for Name; Recursive or OneLevel for Path) and values (any of
// which may match).
type StringFilter struct {
	Key    string
	Option string
	Values []string
}

// LegacyFilter is a ParametersFilter, DescribeParameters' older Filters member: Name (names beginning with a
// value), Type or KeyId (equal to a value).
type LegacyFilter struct {
	Key    string
	Values []string
}

// Filters is a checked set of filters; the zero value matches everything.
type Filters struct {
	stringFilters []StringFilter
	legacy        []LegacyFilter
	// Path, when a Path filter was given (DescribeParameters), restricts names to that hierarchy.
	path      string
	recursive bool
	hasPath   bool
}

var (
	describeKeys = []string{"Name", "Type", "KeyId", "Path", "Tier", "DataType", "tag:<key>"}
	byPathKeys   = []string{"Type", "KeyId", "Label"}
)

// DescribeFilters checks DescribeParameters' filters: Filters and ParameterFilters may not both be given.
func DescribeFilters(legacy []LegacyFilter, filters []StringFilter) (Filters, error) {
	if len(legacy) > 0 && len(filters) > 0 {
		return Filters{}, Invalid("You can use either Filters or ParameterFilters in a single request.")
	}
	f := Filters{legacy: legacy}
	for _, sf := range filters {
		sf, err := checkFilter(sf, false)
		if err != nil {
			return Filters{}, err
		}
		if sf.Key == "Path" {
			if f.hasPath {
				return Filters{}, filterKey("Path", describeKeys)
			}
			f.hasPath, f.recursive = true, sf.Option == "Recursive"
			if len(sf.Values) != 1 {
				return Filters{}, filterValue("The Path filter takes exactly one value.")
			}
			if err := CheckPath(sf.Values[0]); err != nil {
				return Filters{}, filterValue("The Path filter value %s is not a valid parameter path.", sf.Values[0])
			}
			f.path = sf.Values[0]
			continue
		}
		f.stringFilters = append(f.stringFilters, sf)
	}
	return f, nil
}

// ByPathFilters checks GetParametersByPath's filters: Type, KeyId and Label only.
func ByPathFilters(filters []StringFilter) (Filters, error) {
	var f Filters
	for _, sf := range filters {
		sf, err := checkFilter(sf, true)
		if err != nil {
			return Filters{}, err
		}
		f.stringFilters = append(f.stringFilters, sf)
	}
	return f, nil
}

func checkFilter(sf StringFilter, byPath bool) (StringFilter, error) {
	keys := describeKeys
	if byPath {
		keys = byPathKeys
	}
	tag := strings.HasPrefix(sf.Key, "tag:")
	known := slices.Contains(keys, sf.Key) || tag && !byPath
	if !known {
		return sf, filterKey(sf.Key, keys)
	}
	options := []string{"Equals", "BeginsWith"}
	switch {
	case sf.Key == "Name":
		options = append(options, "Contains")
	case sf.Key == "Path":
		options = []string{"Recursive", "OneLevel"}
	case sf.Key == "Label":
		options = []string{"Equals"}
	}
	if sf.Option == "" {
		sf.Option = options[0]
		if sf.Key == "Path" {
			sf.Option = "OneLevel"
		}
	}
	if !slices.Contains(options, sf.Option) {
		return sf, filterOption(sf.Option, options)
	}
	if len(sf.Values) == 0 && !tag {
		return sf, filterValue("The %s filter needs at least one value.", sf.Key)
	}
	switch sf.Key {
	case "Type":
		for _, v := range sf.Values {
			if !slices.Contains([]string{TypeString, TypeStringList, TypeSecureString}, v) && sf.Option == "Equals" {
				return sf, filterValue("The following filter value is not valid: %s. Valid values include: [String, StringList, SecureString].", v)
			}
		}
	case "Tier":
		for _, v := range sf.Values {
			if !slices.Contains([]string{TierStandard, TierAdvanced, TierIntelligentTiering}, v) && sf.Option == "Equals" {
				return sf, filterValue("The following filter value is not valid: %s. Valid values include: [Standard, Advanced, Intelligent-Tiering].", v)
			}
		}
	}
	return sf, nil
}

// Path is the hierarchy a DescribeParameters Path filter asks for, if any.
func (f Filters) Path() (path string, recursive, ok bool) { return f.path, f.recursive, f.hasPath }

// Match reports whether a parameter passes every filter.
func (f Filters) Match(p *Parameter) bool {
	if f.hasPath && !UnderPath(PathPrefix(f.path), p.Name, f.recursive) {
		return false
	}
	for _, lf := range f.legacy {
		var field string
		switch lf.Key {
		case "Name":
			if !slices.ContainsFunc(lf.Values, func(v string) bool { return strings.HasPrefix(p.Name, v) }) {
				return false
			}
			continue
		case "Type":
			field = p.Type
		case "KeyId":
			field = p.KeyID
		}
		if !slices.Contains(lf.Values, field) {
			return false
		}
	}
	for _, sf := range f.stringFilters {
		if !sf.match(p) {
			return false
		}
	}
	return true
}

func (sf StringFilter) match(p *Parameter) bool {
	if tagKey, ok := strings.CutPrefix(sf.Key, "tag:"); ok {
		v, has := p.Tags[tagKey]
		if !has {
			return false
		}
		return len(sf.Values) == 0 || matchAny(sf.Option, v, sf.Values)
	}
	if sf.Key == "Label" {
		return slices.ContainsFunc(sf.Values, func(l string) bool { _, ok := p.Labels[l]; return ok })
	}
	var field string
	switch sf.Key {
	case "Name":
		field = p.Name
	case "Type":
		field = p.Type
	case "KeyId":
		field = p.KeyID
	case "Tier":
		field = p.Tier
	case "DataType":
		field = p.DataType
	}
	return matchAny(sf.Option, field, sf.Values)
}

func matchAny(option, field string, values []string) bool {
	return slices.ContainsFunc(values, func(v string) bool {
		switch option {
		case "BeginsWith":
			return strings.HasPrefix(field, v)
		case "Contains":
			return strings.Contains(field, v)
		}
		return field == v
	})
}

// Label returns the label a GetParametersByPath Label filter asks for: the parameter is answered at the version
// that carries it ("" when there is no Label filter).
func (f Filters) Label(p *Parameter) (string, int64) {
	for _, sf := range f.stringFilters {
		if sf.Key != "Label" {
			continue
		}
		for _, l := range sf.Values {
			if v, ok := p.Labels[l]; ok {
				return l, v
			}
		}
	}
	return "", 0
}
