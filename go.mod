module github.com/mageflow-go/mageflow

go 1.26
