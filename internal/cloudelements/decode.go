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

package cloudelements

import (
	"bytes"
	"encoding/json"
)

// UnmarshalJSON decodes an instance as the platform may send it under any
// reading of the record, and never fails on the shape of its tags or its
// configuration:
//
//   - tags may be strings or objects such as {"id":12,"name":"foo"}; an
//     object gives its name. Any other element (a number, an object without
//     a string name) gives its compact JSON text, and null elements are
//     dropped. A tags value that is not a list is read as a list of one.
//   - configuration values may be strings or any other JSON: a boolean, a
//     number or an object gives its compact JSON text ("true", "15",
//     `{"a":1}`), null gives "". A configuration that is not an object
//     reads as none.
//   - fields the client does not know (user, createdDate, …) are ignored.
//
// The other fields decode as usual, so an id that is not a number still
// fails.
func (i *Instance) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil
	}
	type plain Instance
	var wire struct {
		plain
		Tags          json.RawMessage `json:"tags"`
		Configuration json.RawMessage `json:"configuration"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	*i = Instance(wire.plain)
	i.Tags = decodeTags(wire.Tags)
	i.Configuration = decodeConfiguration(wire.Configuration)
	return nil
}

// decodeTags reads the tags of an instance; see Instance.UnmarshalJSON.
func decodeTags(raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var elements []json.RawMessage
	if raw[0] != '[' {
		elements = []json.RawMessage{raw}
	} else if err := json.Unmarshal(raw, &elements); err != nil {
		return nil // cannot happen: the body was valid JSON
	}
	tags := make([]string, 0, len(elements))
	for _, element := range elements {
		element = bytes.TrimSpace(element)
		if bytes.Equal(element, []byte("null")) {
			continue
		}
		var tag string
		if json.Unmarshal(element, &tag) == nil {
			tags = append(tags, tag)
			continue
		}
		var object struct {
			Name *string `json:"name"`
		}
		if element[0] == '{' && json.Unmarshal(element, &object) == nil && object.Name != nil {
			tags = append(tags, *object.Name)
			continue
		}
		tags = append(tags, compactJSON(element))
	}
	return tags
}

// decodeConfiguration reads the configuration of an instance; see
// Instance.UnmarshalJSON.
func decodeConfiguration(raw json.RawMessage) map[string]string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var values map[string]json.RawMessage
	if err := json.Unmarshal(raw, &values); err != nil {
		return nil // cannot happen: the body was valid JSON
	}
	configuration := make(map[string]string, len(values))
	for key, value := range values {
		configuration[key] = decodeValue(value)
	}
	return configuration
}

// decodeValue reads one configuration value: a string as it is, null (or
// nothing) as "", any other JSON as its compact text.
func decodeValue(value json.RawMessage) string {
	value = bytes.TrimSpace(value)
	var text string
	switch {
	case len(value) == 0, bytes.Equal(value, []byte("null")):
	case json.Unmarshal(value, &text) == nil:
	default:
		text = compactJSON(value)
	}
	return text
}

// compactJSON is the compact JSON text of a valid JSON value.
func compactJSON(value json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, value); err != nil {
		return string(value)
	}
	return buf.String()
}

// UnmarshalJSON reads a configuration entry whose value may be any JSON, as
// configuration values of an instance are (see Instance.UnmarshalJSON), and
// whose other fields the client does not use.
func (e *ConfigurationEntry) UnmarshalJSON(data []byte) error {
	var wire struct {
		ID            int64           `json:"id"`
		Key           string          `json:"key"`
		PropertyValue json.RawMessage `json:"propertyValue"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	*e = ConfigurationEntry{ID: wire.ID, Key: wire.Key, PropertyValue: decodeValue(wire.PropertyValue)}
	return nil
}
