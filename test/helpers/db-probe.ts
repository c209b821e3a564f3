// Moved to bench/ (the chaos run reads the collections too); kept here for the tests.
export * from "../../bench/db-probe";
