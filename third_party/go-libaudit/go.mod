module github.com/elastic/go-libaudit/v2

go 1.21

require (
	github.com/elastic/go-licenser v0.4.1
	github.com/kballard/go-shellquote v0.0.0-20180428030007-95032a82bc51
	github.com/stretchr/testify v1.7.0
	golang.org/x/sys v0.11.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
)
