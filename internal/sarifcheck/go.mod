module github.com/augurproj/augur/internal/sarifcheck

go 1.26.7

require (
	github.com/augurproj/augur v0.0.0
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/augurproj/augur => ../..
