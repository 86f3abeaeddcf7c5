package sigma

import "strings"

// Modifier is a closed enum: modifiers are parsed once at load, and an unknown
// one is a load error, never a silent no-match at run time.
type Modifier uint8

const (
	ModContains Modifier = iota + 1
	ModStartsWith
	ModEndsWith
	ModAll
	ModExists
	ModCased
	ModNeq
	ModWindash
	ModRe
	ModReI // case-insensitive regexp, only after re
	ModReM // multi-line regexp, only after re
	ModReS // dot matches newline, only after re
	ModBase64
	ModBase64Offset
	ModUTF16LE
	ModUTF16BE
	ModUTF16 // UTF-16 little endian with a byte-order mark
	ModWide  // alias of utf16le
	ModLt
	ModLte
	ModGt
	ModGte
	ModCIDR
	ModFieldRef
	ModExpand // %placeholder% values, replaced from configuration (see ExpandPlaceholders)
	ModMinute // time modifiers: the part of a timestamp field, in UTC
	ModHour
	ModDay   // day of the month, 1-31
	ModWeek  // ISO 8601 week, 1-53
	ModMonth // 1-12
	ModYear
)

var modifierNames = map[string]Modifier{
	"contains": ModContains, "startswith": ModStartsWith, "endswith": ModEndsWith,
	"all": ModAll, "exists": ModExists, "cased": ModCased, "neq": ModNeq,
	"windash": ModWindash, "re": ModRe, "i": ModReI, "m": ModReM, "s": ModReS,
	"base64": ModBase64, "base64offset": ModBase64Offset,
	"utf16le": ModUTF16LE, "utf16be": ModUTF16BE, "utf16": ModUTF16, "wide": ModWide,
	"lt": ModLt, "lte": ModLte, "gt": ModGt, "gte": ModGte,
	"cidr": ModCIDR, "fieldref": ModFieldRef, "expand": ModExpand,
	"minute": ModMinute, "hour": ModHour, "day": ModDay, "week": ModWeek, "month": ModMonth, "year": ModYear,
}

// ParseModifier returns the modifier of a name (case-insensitive).
func ParseModifier(name string) (Modifier, bool) {
	m, ok := modifierNames[strings.ToLower(name)]
	return m, ok
}

func (m Modifier) String() string {
	for k, v := range modifierNames {
		if v == m {
			return k
		}
	}
	return "?"
}

// IsEncoding reports the modifiers that turn a string into other bytes.
func (m Modifier) IsEncoding() bool {
	switch m {
	case ModBase64, ModBase64Offset, ModUTF16LE, ModUTF16BE, ModUTF16, ModWide:
		return true
	}
	return false
}

// IsCompare reports the numeric comparison modifiers.
func (m Modifier) IsCompare() bool {
	return m == ModLt || m == ModLte || m == ModGt || m == ModGte
}

// IsTime reports the time modifiers, which read a part of a timestamp.
func (m Modifier) IsTime() bool { return m >= ModMinute && m <= ModYear }
