import Testing

@testable import Shared

@Suite(.timeLimit(.minutes(2))) struct SQLScriptTests {
    @Test func splitsOnSemicolonsOutsideQuotesBodiesAndComments() {
        let script = """
            -- a comment; with a semicolon
            CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'a;b' $$;
            CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$;
            INSERT INTO t VALUES ('it''s; fine');

            SELECT $1
            """
        #expect(
            SQLScript.statements(script) == [
                "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'a;b' $$",
                "CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$",
                "INSERT INTO t VALUES ('it''s; fine')",
                "SELECT $1",
            ])
    }
}
