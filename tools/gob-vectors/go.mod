module weave-ts/tools/gob-vectors

go 1.19
