// Test helpers for orchestrators and our own suites: @weave-ts/core/testing. Append-only for now.
