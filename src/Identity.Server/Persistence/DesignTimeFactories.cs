using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Identity.Server.Persistence;

/// <summary>
/// For <c>dotnet ef migrations add NAME --context PostgresServerDbContext --output-dir Persistence/Migrations/Postgres</c>
/// (and the SQLite twin): the tools build the model without starting the server or touching a database.
/// </summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresServerDbContext>
{
    public PostgresServerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresServerDbContext>().UseNpgsql("Host=design-time-only").Options);
}

internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteServerDbContext>
{
    public SqliteServerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteServerDbContext>().UseSqlite("Data Source=design-time-only.db").Options);
}
