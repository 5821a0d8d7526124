using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Identity.Server.Persistence.Migrations.Postgres
{
    /// <summary>
    /// Every update or delete of an access token, an authorization or a person is announced on the identity_rows
    /// channel when it commits, whoever makes it (this server, another node, an operator's SQL), so that nodes drop
    /// their copies of access tokens' entries (Protocol/Storage/AccessTokenEntries). Other tokens' rows are not
    /// copied, so their changes (a refresh token's redemption on every refresh) send nothing.
    /// </summary>
    public partial class RowChangeNotices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION identity_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('identity_rows', TG_ARGV[0] || ':' || OLD."Id"::text);
                    RETURN NULL;
                END
                $$;
                CREATE TRIGGER identity_row_changed AFTER UPDATE OR DELETE ON "OpenIddictTokens"
                    FOR EACH ROW WHEN (OLD."Type" = 'urn:ietf:params:oauth:token-type:access_token') EXECUTE FUNCTION identity_row_changed('t');
                CREATE TRIGGER identity_row_changed AFTER UPDATE OR DELETE ON "OpenIddictAuthorizations"
                    FOR EACH ROW EXECUTE FUNCTION identity_row_changed('a');
                CREATE TRIGGER identity_row_changed AFTER UPDATE OR DELETE ON "AspNetUsers"
                    FOR EACH ROW EXECUTE FUNCTION identity_row_changed('u');
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER identity_row_changed ON "AspNetUsers";
                DROP TRIGGER identity_row_changed ON "OpenIddictAuthorizations";
                DROP TRIGGER identity_row_changed ON "OpenIddictTokens";
                DROP FUNCTION identity_row_changed();
                """);
        }
    }
}
