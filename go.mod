module github.com/tomgo/targetdata

go 1.26.8
