// Package include registers webshellbeat's fields.yml with libbeat, which
// builds the index template from it (export template, setup --index-management).
package include

import (
	_ "embed"
	"fmt"

	"github.com/elastic/beats/v7/libbeat/asset"
)

//go:embed fields.yml
var fieldsYml string

// Register adds the fields under the beat's name. Called once from the root
// command, not from init, so that the registration is explicit.
func Register(beatName string) error {
	encoded, err := asset.EncodeData(fieldsYml)
	if err != nil {
		return fmt.Errorf("encode fields.yml: %w", err)
	}
	return asset.SetFields(beatName, "fields.yml", asset.BeatFieldsPri, func() string { return encoded })
}
