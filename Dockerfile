# Not exercised by CI: this machine has no Docker engine (see docs/operations.md).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY Directory.Build.props Identity.sln ./
COPY src/Identity.Server/Identity.Server.csproj src/Identity.Server/
# For the image's platform, so that the assemblies are precompiled (ReadyToRun): a faster start.
ARG TARGETARCH
RUN dotnet restore src/Identity.Server/Identity.Server.csproj -a $TARGETARCH
COPY src/ src/
RUN dotnet publish src/Identity.Server/Identity.Server.csproj -c Release -a $TARGETARCH --self-contained false -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# The image's built-in non-root user; the SQLite default writes under /data.
RUN mkdir -p /data && chown app:app /data
USER app
# The Data Protection key ring, and through it the signing keys' private parts, is encrypted with this certificate's
# key (docs/operations.md#keys-at-rest): mount the PFX here (docker-compose.yml does it as a secret) and give its
# password in DataProtection__Certificate__Password. Without it the server refuses to start, unless
# DataProtection__Certificate__Path= (empty) and DataProtection__AllowUnprotectedKeys=true say to store keys in clear.
# DOTNET_GCgen0size: a 16 MB young generation for the garbage collector, whatever the host shows of its CPU caches.
# Without it, a VM that hides them (Firecracker does) leaves the budget near 2.5 MB: dozens of gen1 collections a
# second under load, 6-13 % of the time paused; with it, 2-5 %, for 10-20 MB more peak memory (docs/operations.md).
ENV ASPNETCORE_URLS=http://+:8080 \
    DOTNET_GCgen0size=0x1000000 \
    ASPNETCORE_ENVIRONMENT=Production \
    ConnectionStrings__Identity="Data Source=/data/identity.db" \
    DataProtection__Certificate__Path=/run/secrets/dataprotection.pfx
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["dotnet", "Identity.Server.dll", "--healthcheck-probe"]
ENTRYPOINT ["dotnet", "Identity.Server.dll"]
