package console

// summaryItem is one line of a form's error summary: what is wrong and,
// when it is about one field, the id of that field's control, which the
// line links to.
type summaryItem struct {
	Field   string // the id of the control; "" for an error of the whole form
	Code    string // the problem code, shown for errors of the whole form
	Message string
	Remedy  string
}

// failedForm is the data of a page that shows a form sent back with
// errors. The layout puts the summary at the top of the page, where it
// takes the focus when the page loads (autofocus, so no script is needed)
// and is announced as an alert, and the page's title starts with "Error:".
type failedForm interface {
	errorSummary() []summaryItem
}

// formError is the summary line of an error of the whole form.
func formError(e *shownError) summaryItem {
	return summaryItem{Code: e.Code, Message: e.Message, Remedy: e.Remedy}
}

// connFieldOrder is the order of the New Connection form's fields.
var connFieldOrder = []string{"nickname", "domain", "clientId", "clientSecret", "scopes"}

func (f connForm) errorSummary() []summaryItem {
	var out []summaryItem
	if f.General != nil {
		out = append(out, formError(f.General))
	}
	for _, name := range connFieldOrder {
		e, ok := f.Errors[name]
		if !ok {
			continue
		}
		id := name
		if name == "scopes" {
			id = "scope-" + f.Perm.Mode
		}
		out = append(out, summaryItem{Field: id, Message: e.Message, Remedy: e.Remedy})
	}
	return out
}

func (f reauthForm) errorSummary() []summaryItem {
	if f.Error == nil {
		return nil
	}
	it := formError(f.Error)
	if f.Error.Field == "scopes" {
		it.Field, it.Code = "scope-"+f.Perm.Mode, ""
	}
	return []summaryItem{it}
}

func (f runForm) errorSummary() []summaryItem {
	var out []summaryItem
	if f.ConnError != "" {
		out = append(out, summaryItem{Field: "connection", Message: f.ConnError})
	}
	for _, fld := range f.Fields {
		if fld.Error != "" {
			out = append(out, summaryItem{Field: fld.ID, Message: fld.Error})
		}
	}
	if f.Error != nil {
		out = append(out, formError(f.Error))
	}
	return out
}

func (d *flowData) errorSummary() []summaryItem {
	if d.Error == nil {
		return nil
	}
	if len(d.Error.Missing) == 0 {
		return []summaryItem{formError(d.Error)}
	}
	var out []summaryItem
	for _, name := range d.Error.Missing {
		id := ""
		for _, in := range d.Inputs {
			if in.Name == name {
				id = in.ID
			}
		}
		out = append(out, summaryItem{Field: id, Message: name + " is required."})
	}
	return out
}

func (d signinData) errorSummary() []summaryItem {
	if d.Error == "" {
		return nil
	}
	return []summaryItem{{Field: "token", Message: d.Error}}
}
