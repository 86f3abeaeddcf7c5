// Package rules embeds webshellbeat's own Sigma rule pack, loaded when no
// other rules are configured (and beside them when builtin rules stay enabled).
package rules

import "embed"

// Builtin holds the pack's rule files under builtin/.
//
//go:embed builtin/*.yml
var Builtin embed.FS

// BuiltinRoot is the folder of the pack inside Builtin.
const BuiltinRoot = "builtin"
