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

package monitoring_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

const (
	// The dashboard's panels: 5 rows and 22 panels with queries.
	wantRows, wantQueryPanels = 5, 22
	datasourceVariable        = "datasource"
)

// strictError is the error of an UnmarshalJSONStrict: they return their
// list of errors as an error even when the list is empty.
func strictError(err error) error {
	var list cog.BuildErrors
	if errors.As(err, &list) && len(list) == 0 {
		return nil
	}
	return err
}

// decodeDashboard decodes data strictly as Grafana's dashboard model: an
// unknown or mistyped field anywhere — dashboard, panel, panel options of its
// type, field config, Prometheus query — fails.
func decodeDashboard(data []byte) (*dashboard.Dashboard, error) {
	// Panel options and queries are decoded by their plugin's types.
	plugins.RegisterDefaultPlugins()
	d := &dashboard.Dashboard{}
	if err := strictError(d.UnmarshalJSONStrict(data)); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	// The SDK (v0.0.22) checks every panel and query above but keeps none
	// of them: a panel's (or a query's) strict decoding returns that empty
	// error list, which the decoder of the list holding it takes for a
	// failure after all, dropping the item. So the panels and their queries
	// are decoded again, one by one, with the same strict decoders.
	var raw struct {
		Panels []struct {
			Targets []json.RawMessage `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	var rawPanels struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(data, &rawPanels); err != nil {
		return nil, err
	}
	d.Panels = nil
	for i, p := range rawPanels.Panels {
		var kind struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(p, &kind); err != nil {
			return nil, err
		}
		var err error
		var item dashboard.PanelOrRowPanel
		if kind.Type == "row" {
			item.RowPanel = &dashboard.RowPanel{}
			err = item.RowPanel.UnmarshalJSONStrict(p)
		} else {
			item.Panel = &dashboard.Panel{}
			err = item.Panel.UnmarshalJSONStrict(p)
		}
		if err := strictError(err); err != nil {
			return nil, fmt.Errorf("panels[%d]: %w", i, err)
		}
		if item.Panel != nil {
			item.Panel.Targets = nil
			for j, target := range raw.Panels[i].Targets {
				// Every query of this dashboard is a Prometheus one (its
				// data source is the variable of Prometheus data sources).
				q := &prometheus.Dataquery{}
				if err := strictError(q.UnmarshalJSONStrict(target)); err != nil {
					return nil, fmt.Errorf("panels[%d].targets[%d]: %w", i, j, err)
				}
				item.Panel.Targets = append(item.Panel.Targets, q)
			}
		}
		d.Panels = append(d.Panels, item)
	}
	return d, nil
}

func loadDashboard(t *testing.T) *dashboard.Dashboard {
	t.Helper()
	d, err := decodeDashboard(readFile(t, dashboardFile))
	if err != nil {
		t.Fatalf("%s does not load as a Grafana dashboard: %v", dashboardFile, err)
	}
	return d
}

// TestDashboardDecodingIsStrict: the decoding above refuses what Grafana's
// model does not have, down to a panel's options and a query's fields, so
// that TestDashboardModel's passing means something.
func TestDashboardDecodingIsStrict(t *testing.T) {
	for name, mutate := range map[string]func(d map[string]any){
		"an unknown dashboard field": func(d map[string]any) { d["panelz"] = []any{} },
		"an unknown panel field":     func(d map[string]any) { panel(d, "stat")["titel"] = "x" },
		"unknown stat options":       func(d map[string]any) { panel(d, "stat")["options"].(map[string]any)["colourMode"] = "value" },
		"unknown time series options": func(d map[string]any) {
			panel(d, "timeseries")["options"].(map[string]any)["legend"].(map[string]any)["show"] = true
		},
		"an unknown Prometheus query field": func(d map[string]any) {
			panel(d, "timeseries")["targets"].([]any)[0].(map[string]any)["expression"] = "up"
		},
		"a mistyped variable": func(d map[string]any) {
			d["templating"].(map[string]any)["list"].([]any)[0].(map[string]any)["multi"] = "no"
		},
	} {
		t.Run(name, func(t *testing.T) {
			var d map[string]any
			if err := json.Unmarshal(readFile(t, dashboardFile), &d); err != nil {
				t.Fatal(err)
			}
			mutate(d)
			data, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			_, err = decodeDashboard(data)
			if err == nil {
				t.Fatal("decoded without error")
			}
			t.Log(err)
		})
	}
}

// panel is the dashboard's first panel of type typ.
func panel(d map[string]any, typ string) map[string]any {
	for _, p := range d["panels"].([]any) {
		if p := p.(map[string]any); p["type"] == typ {
			return p
		}
	}
	panic("no " + typ + " panel")
}

// TestDashboardModel: the dashboard's structure: its panels, the data source
// variable every query goes through, unique panel ids, and queries on every
// panel.
func TestDashboardModel(t *testing.T) {
	d := loadDashboard(t)
	if d.Uid == nil || *d.Uid != "hubspot-operator" || d.Title == nil || *d.Title == "" {
		t.Errorf("uid %v, title %v: want a stable uid hubspot-operator and a title", d.Uid, d.Title)
	}

	var ds *dashboard.VariableModel
	for i, v := range d.Templating.List {
		if v.Name == datasourceVariable {
			ds = &d.Templating.List[i]
		}
	}
	if ds == nil || ds.Type != dashboard.VariableTypeDatasource || ds.Query == nil || ds.Query.String == nil || *ds.Query.String != "prometheus" {
		t.Fatalf("no data source variable %q of Prometheus data sources: %+v", datasourceVariable, ds)
	}

	ids := map[uint32]string{}
	seen := func(id uint32, title string) {
		if other, dup := ids[id]; dup {
			t.Errorf("panels %q and %q share id %d", other, title, id)
		}
		ids[id] = title
	}
	rows, panels := 0, 0
	checkPanel := func(p *dashboard.Panel) {
		panels++
		title := ""
		if p.Title != nil {
			title = *p.Title
		}
		if p.Id == nil {
			t.Errorf("panel %q has no id", title)
		} else {
			seen(*p.Id, title)
		}
		if p.GridPos == nil {
			t.Errorf("panel %q has no position", title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", title)
		}
		if p.Datasource == nil || p.Datasource.Uid == nil || *p.Datasource.Uid != "${"+datasourceVariable+"}" {
			t.Errorf("panel %q does not query the data source variable", title)
		}
		for _, target := range p.Targets {
			q, ok := target.(*prometheus.Dataquery)
			if !ok {
				t.Errorf("panel %q: a query of type %T, not a Prometheus query", title, target)
				continue
			}
			if q.Expr == "" || q.RefId == nil {
				t.Errorf("panel %q: a query without expr or refId", title)
			}
			if q.Datasource == nil || q.Datasource.Uid == nil || *q.Datasource.Uid != "${"+datasourceVariable+"}" {
				t.Errorf("panel %q: query %v does not use the data source variable", title, q.RefId)
			}
		}
	}
	for _, p := range d.Panels {
		switch {
		case p.RowPanel != nil:
			rows++
			seen(p.RowPanel.Id, *p.RowPanel.Title)
			for i := range p.RowPanel.Panels {
				checkPanel(&p.RowPanel.Panels[i])
			}
		case p.Panel != nil:
			checkPanel(p.Panel)
		}
	}
	if rows != wantRows || panels != wantQueryPanels {
		t.Errorf("%d rows and %d panels, want %d and %d", rows, panels, wantRows, wantQueryPanels)
	}
	t.Logf("%d panels: %d rows, %d with queries", rows+panels, rows, panels)
}

// TestDashboardQueriesParse: every query of the dashboard, Grafana's
// variables put aside, parses with Prometheus's PromQL parser.
func TestDashboardQueriesParse(t *testing.T) {
	qs := dashboardQueries(t)
	for _, q := range qs {
		got, err := analyse(q.expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", q.where, err, q.expr)
			continue
		}
		if len(got.selectors) == 0 {
			t.Errorf("%s selects no series: %s", q.where, q.expr)
		}
	}
	t.Logf("%d dashboard queries parsed", len(qs))
}
