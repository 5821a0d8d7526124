using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Identity.Server.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class OutboxLinks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Messages already sent or refused for good keep no bodies: they may hold a link's one-time token. First, and
            // empty rather than NULL: the columns are NOT NULL until the table is rebuilt, and EF Core runs no SQL of ours
            // while a rebuild is pending.
            migrationBuilder.Sql("""UPDATE "OutboxMessages" SET "TextBody" = '', "HtmlBody" = '' WHERE "SentAt" IS NOT NULL OR "FailedAt" IS NOT NULL;""");

            migrationBuilder.AlterColumn<string>(
                name: "TextBody",
                table: "OutboxMessages",
                type: "TEXT",
                nullable: true,
                oldClrType: typeof(string),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<string>(
                name: "Subject",
                table: "OutboxMessages",
                type: "TEXT",
                maxLength: 200,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 200);

            migrationBuilder.AlterColumn<string>(
                name: "HtmlBody",
                table: "OutboxMessages",
                type: "TEXT",
                nullable: true,
                oldClrType: typeof(string),
                oldType: "TEXT");

            migrationBuilder.AddColumn<string>(
                name: "Link",
                table: "OutboxMessages",
                type: "TEXT",
                maxLength: 20,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The previous version cannot write a link: requests still waiting are dropped, and the columns get values again.
            migrationBuilder.Sql("""DELETE FROM "OutboxMessages" WHERE "Link" IS NOT NULL AND "SentAt" IS NULL AND "FailedAt" IS NULL;""");
            migrationBuilder.Sql("""UPDATE "OutboxMessages" SET "Subject" = COALESCE("Subject", ''), "TextBody" = COALESCE("TextBody", ''), "HtmlBody" = COALESCE("HtmlBody", '');""");

            migrationBuilder.DropColumn(
                name: "Link",
                table: "OutboxMessages");

            migrationBuilder.AlterColumn<string>(
                name: "TextBody",
                table: "OutboxMessages",
                type: "TEXT",
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldNullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "Subject",
                table: "OutboxMessages",
                type: "TEXT",
                maxLength: 200,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 200,
                oldNullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "HtmlBody",
                table: "OutboxMessages",
                type: "TEXT",
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldNullable: true);
        }
    }
}
