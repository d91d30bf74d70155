package notify

import (
	"encoding/json"
	"fmt"
	"strings"
)

// postBody returns what is posted to r for the stored message body: the
// body itself for cardflow's JSON, else the message as r's chat service
// takes it.
func postBody(r Receiver, body []byte) ([]byte, error) {
	if r.Body() == BodyCardflow || r.Body() == "" {
		return body, nil
	}
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("the stored message is not JSON: %w", err)
	}
	text := chatText(m)
	switch r.Body() {
	case BodySlack:
		// Slack reads &, < and > as markup: escaped, they show as typed.
		return json.Marshal(map[string]string{"text": strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)})
	case BodyGoogleChat:
		return json.Marshal(map[string]string{"text": text})
	default: // BodyTeams: what Teams' incoming webhooks and Workflows' "when a webhook request is received" take
		// summary satisfies the older connectors, which refuse a post
		// without one ("Summary or Text is required").
		return json.Marshal(map[string]any{
			"type":    "message",
			"summary": text,
			"attachments": []any{map[string]any{
				"contentType": "application/vnd.microsoft.card.adaptive",
				"content": map[string]any{
					"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
					"type":    "AdaptiveCard",
					"version": "1.2",
					"body":    []any{map[string]any{"type": "TextBlock", "text": text, "wrap": true}},
				},
			}},
		})
	}
}

// chatText is a message as one line of a chat: its type, then its text,
// which names the flow run or connection it is about.
func chatText(m Message) string {
	return "cardflow " + m.Type + ": " + m.Message
}
