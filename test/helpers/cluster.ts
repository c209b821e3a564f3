// Moved to bench/ (the benchmark and the chaos run use it too); kept here for the tests.
export * from "../../bench/cluster";
