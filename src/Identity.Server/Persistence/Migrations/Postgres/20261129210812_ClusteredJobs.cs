using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Identity.Server.Persistence.Migrations.Postgres
{
    /// <summary>
    /// Quartz.NET's clustered ADO.NET job store (SPEC §1 "Jobs"): its tables, from the DDL the referenced Quartz
    /// package ships (see <see cref="QuartzSchema"/>). They are not part of the EF model, so this migration is written
    /// by hand.
    /// </summary>
    public partial class ClusteredJobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder) =>
            migrationBuilder.Sql(QuartzSchema.Postgres(Jobs.JobsRegistration.TablePrefix));

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.Sql($"""
            DO $$ DECLARE t text; BEGIN
              FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE '{Jobs.JobsRegistration.TablePrefix}%' LOOP
                EXECUTE format('DROP TABLE %I CASCADE', t);
              END LOOP;
            END $$;
            """);
    }
}
