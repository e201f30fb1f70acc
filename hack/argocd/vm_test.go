/*
Copyright 2026 The hubspot-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package argocd_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// vm runs a script the way Argo CD's Lua VM (util/lua/lua.go) does:
//
//   - without the standard libraries, unless openLibs: Argo CD opens them for
//     its built-in health checks and in its discovery tests, but not for
//     actions, nor for scripts in argocd-cm (unless
//     resource.customizations.useOpenLibs.<group_kind> is true);
//   - always with the package, base and table libraries and a "safe" os
//     library holding only time and date, which `require("os")` also loads;
//   - with the object as the global `obj` and the action parameters as the
//     global `actionParams`;
//   - with a one-second deadline;
//   - and the returned table converted to JSON as layeh.com/gopher-json does:
//     an empty table or one with the keys 1..n is an array, one with string
//     keys an object.
type vm struct {
	openLibs bool
	// now is what the safe os library sees as the current time.
	now func() time.Time
}

func (v vm) run(obj map[string]any, script string, params map[string]string) (any, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: !v.openLibs})
	defer l.Close()
	now := v.now
	if now == nil {
		now = time.Now
	}
	os := safeOS(now)
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, func(l *lua.LState) int {
			l.Push(l.RegisterModule(lua.OsLibName, os))
			return 1
		}},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, err
		}
	}
	l.PreloadModule(lua.OsLibName, func(l *lua.LState) int {
		l.Push(l.SetFuncs(l.NewTable(), os))
		return 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)

	p := l.NewTable()
	for k, val := range params {
		p.RawSetString(k, toLua(l, val))
	}
	l.SetGlobal("actionParams", p)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return nil, err
	}
	return fromLua(l.Get(-1))
}

// toLua converts decoded JSON or YAML as Argo CD does: objects and arrays
// become tables (arrays 1-based), numbers become numbers.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, item := range v {
			t.RawSetString(k, toLua(l, item))
		}
		return t
	}
	return lua.LNil
}

// fromLua converts a returned Lua value to what its JSON encoding decodes to.
func fromLua(v lua.LValue) (any, error) {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(v), nil
	case lua.LNumber:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("cannot encode %v as JSON", f)
		}
		return f, nil
	case lua.LString:
		return string(v), nil
	case *lua.LTable:
		if v.MaxN() > 0 || isEmpty(v) {
			return tableArray(v)
		}
		return tableObject(v)
	}
	return nil, fmt.Errorf("cannot encode a Lua %s as JSON", v.Type())
}

func isEmpty(t *lua.LTable) bool {
	k, _ := t.Next(lua.LNil)
	return k == lua.LNil
}

func tableArray(t *lua.LTable) (any, error) {
	n := t.MaxN()
	out := make([]any, 0, n)
	count := 0
	var err error
	t.ForEach(func(lua.LValue, lua.LValue) { count++ })
	if count != n {
		return nil, errors.New("cannot encode a table with mixed or non-sequential keys as JSON")
	}
	for i := 1; i <= n; i++ {
		item, e := fromLua(t.RawGetInt(i))
		if e != nil && err == nil {
			err = e
		}
		out = append(out, item)
	}
	return out, err
}

func tableObject(t *lua.LTable) (any, error) {
	out := map[string]any{}
	var err error
	t.ForEach(func(k, val lua.LValue) {
		key, ok := k.(lua.LString)
		if !ok {
			if err == nil {
				err = errors.New("cannot encode a table with mixed or non-string keys as JSON")
			}
			return
		}
		item, e := fromLua(val)
		if e != nil && err == nil {
			err = e
		}
		out[string(key)] = item
	})
	return out, err
}

// cleanReturned undoes what the JSON encoding does to empty objects (they
// come back as empty arrays) wherever the input had an object, as Argo CD
// does to an action's result before patching.
func cleanReturned(out, in map[string]any) map[string]any {
	for k, old := range in {
		switch nv := out[k].(type) {
		case map[string]any:
			if ov, ok := old.(map[string]any); ok {
				out[k] = cleanReturned(nv, ov)
			}
		case []any:
			switch ov := old.(type) {
			case map[string]any:
				if len(nv) == 0 {
					out[k] = map[string]any{}
				}
			case []any:
				for i := range nv {
					if i >= len(ov) {
						break
					}
					if nm, ok := nv[i].(map[string]any); ok {
						if om, ok := ov[i].(map[string]any); ok {
							nv[i] = cleanReturned(nm, om)
						}
					}
				}
			}
		}
	}
	return out
}

// normalizeJSON round-trips v through JSON, so that values decoded from YAML
// and values returned by Lua compare alike.
func normalizeJSON(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(raw, &out)
}

// safeOS is Argo CD's restricted os library (util/lua/oslib_safe.go): time
// and date only, with date's strftime limited to the conversions Argo CD
// implements.
func safeOS(now func() time.Time) map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"time": func(l *lua.LState) int {
			if l.GetTop() == 0 {
				l.Push(lua.LNumber(now().Unix()))
				return 1
			}
			t := l.CheckTable(1)
			field := func(name string, def int) int {
				if n, ok := t.RawGetString(name).(lua.LNumber); ok {
					return int(n)
				}
				return def
			}
			tm := time.Date(field("year", -1), time.Month(field("month", -1)), field("day", -1),
				field("hour", 12), field("min", 0), field("sec", 0), 0, time.Local)
			l.Push(lua.LNumber(tm.Unix()))
			return 1
		},
		"date": func(l *lua.LState) int {
			t := now()
			format := "%c"
			if l.GetTop() >= 1 {
				format = l.CheckString(1)
				if rest, utc := strings.CutPrefix(format, "!"); utc {
					t, format = t.UTC(), rest
				}
				if l.GetTop() >= 2 {
					t = time.Unix(l.CheckInt64(2), 0)
				}
				if strings.HasPrefix(format, "*t") {
					tbl := l.NewTable()
					for k, v := range map[string]int{"year": t.Year(), "month": int(t.Month()), "day": t.Day(),
						"hour": t.Hour(), "min": t.Minute(), "sec": t.Second(), "wday": int(t.Weekday()) + 1, "yday": 0} {
						tbl.RawSetString(k, lua.LNumber(v))
					}
					tbl.RawSetString("isdst", lua.LFalse)
					l.Push(tbl)
					return 1
				}
			}
			l.Push(lua.LString(strftime(t, format)))
			return 1
		},
	}
}

// strftimeLayouts are the conversions Argo CD's os.date knows, as Go layouts.
// (Argo CD spells %x as hours/minutes/seconds; so does this.)
var strftimeLayouts = map[byte]string{
	'a': "Mon", 'A': "Monday", 'b': "Jan", 'B': "January", 'c': "02 Jan 06 15:04 MST", 'd': "02",
	'F': "2006-01-02", 'H': "15", 'I': "03", 'm': "01", 'M': "04", 'p': "PM", 'P': "pm", 'S': "05",
	'x': "15/04/05", 'X': "15:04:05", 'y': "06", 'Y': "2006", 'z': "-0700", 'Z': "MST",
}

func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i == len(format)-1 {
			b.WriteByte(c)
			continue
		}
		i++
		switch f := format[i]; {
		case f == '%':
			b.WriteByte('%')
		case f == 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case strftimeLayouts[f] != "":
			b.WriteString(t.Format(strftimeLayouts[f]))
		default:
			b.WriteByte('%')
			b.WriteByte(f)
		}
	}
	return b.String()
}

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
