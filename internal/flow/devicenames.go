package flow

// Device names: a run or plan shows "Name (id)" for the devices its items
// act on when the flow already knows the device (a search output's
// devices and a read output's device carry profile.displayName), without
// asking Okta for a name.

// deviceOf returns the id and display name of v when v is a device as the
// device cards output it ({id, profile: {displayName}}).
func deviceOf(v any) (id, name string, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap {
		return "", "", false
	}
	id, _ = m["id"].(string)
	p, _ := m["profile"].(map[string]any)
	name, _ = p["displayName"].(string)
	return id, name, id != "" && name != ""
}

// collectDevices adds the devices of a card output to names (id → display
// name): the output itself, its "device" and each of its "devices".
func collectDevices(out any, names map[string]string) {
	add := func(v any) {
		if id, name, ok := deviceOf(v); ok {
			names[id] = name
		}
	}
	add(out)
	m, ok := out.(map[string]any)
	if !ok {
		return
	}
	add(m["device"])
	if list, ok := m["devices"].([]any); ok {
		for _, d := range list {
			add(d)
		}
	}
}

// deviceName is the display name of the device an item acts on (its
// input's deviceId), when the flow knows it: the item itself is that
// device (for_each over a search's devices), its card's output is, or an
// earlier step's output holds it. "" otherwise.
func (x *execution) deviceName(item any, input map[string]any, output any) string {
	id, _ := input["deviceId"].(string)
	if id == "" {
		return ""
	}
	if did, name, ok := deviceOf(item); ok && did == id {
		return name
	}
	if name := x.devices[id]; name != "" {
		return name
	}
	names := map[string]string{}
	collectDevices(output, names)
	return names[id]
}
