/** The JSON client lives with the bench, which is compiled without test/. */
export * from "../../bench/http";
