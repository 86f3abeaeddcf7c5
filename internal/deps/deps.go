// Package deps pins dependencies that the packages being written import; it is
// removed once they do. (Temporary: keeps go mod tidy from dropping them.)
package deps

import (
	_ "github.com/elastic/go-elasticsearch/v8"
	_ "github.com/elastic/go-libaudit/v2"
	_ "github.com/elastic/go-libaudit/v2/aucoalesce"
	_ "github.com/elastic/go-libaudit/v2/auparse"
	_ "github.com/elastic/mock-es/pkg/api"
	_ "github.com/magefile/mage/mg"
	_ "gopkg.in/yaml.v3"
	_ "www.velocidex.com/golang/evtx"
)
