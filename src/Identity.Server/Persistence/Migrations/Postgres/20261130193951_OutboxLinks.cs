using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Identity.Server.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class OutboxLinks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "TextBody",
                table: "OutboxMessages",
                type: "text",
                nullable: true,
                oldClrType: typeof(string),
                oldType: "text");

            migrationBuilder.AlterColumn<string>(
                name: "Subject",
                table: "OutboxMessages",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "character varying(200)",
                oldMaxLength: 200);

            migrationBuilder.AlterColumn<string>(
                name: "HtmlBody",
                table: "OutboxMessages",
                type: "text",
                nullable: true,
                oldClrType: typeof(string),
                oldType: "text");

            migrationBuilder.AddColumn<string>(
                name: "Link",
                table: "OutboxMessages",
                type: "character varying(20)",
                maxLength: 20,
                nullable: true);

            // Messages already sent or refused for good keep no bodies: they may hold a link's one-time token.
            migrationBuilder.Sql("""UPDATE "OutboxMessages" SET "TextBody" = NULL, "HtmlBody" = NULL WHERE "SentAt" IS NOT NULL OR "FailedAt" IS NOT NULL;""");
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
                type: "text",
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "text",
                oldNullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "Subject",
                table: "OutboxMessages",
                type: "character varying(200)",
                maxLength: 200,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "character varying(200)",
                oldMaxLength: 200,
                oldNullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "HtmlBody",
                table: "OutboxMessages",
                type: "text",
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "text",
                oldNullable: true);
        }
    }
}
