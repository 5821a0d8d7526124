CREATE TABLE "AspNetRoles" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AspNetRoles" PRIMARY KEY,
    "Name" TEXT NULL,
    "NormalizedName" TEXT NULL,
    "ConcurrencyStamp" TEXT NULL
);


CREATE TABLE "AspNetUsers" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AspNetUsers" PRIMARY KEY,
    "FirstName" TEXT NULL,
    "LastName" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "UpdatedAt" INTEGER NOT NULL,
    "UserName" TEXT NULL,
    "NormalizedUserName" TEXT NULL,
    "Email" TEXT NULL,
    "NormalizedEmail" TEXT NULL,
    "EmailConfirmed" INTEGER NOT NULL,
    "PasswordHash" TEXT NULL,
    "SecurityStamp" TEXT NULL,
    "ConcurrencyStamp" TEXT NULL,
    "PhoneNumber" TEXT NULL,
    "PhoneNumberConfirmed" INTEGER NOT NULL,
    "TwoFactorEnabled" INTEGER NOT NULL,
    "LockoutEnd" INTEGER NULL,
    "LockoutEnabled" INTEGER NOT NULL,
    "AccessFailedCount" INTEGER NOT NULL
);


CREATE TABLE "Authorizations" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Authorizations" PRIMARY KEY,
    "ClientId" TEXT NOT NULL,
    "SubjectId" TEXT NOT NULL,
    "Scopes" TEXT NOT NULL,
    "Kind" TEXT NOT NULL,
    "Status" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NULL,
    "RevokedAt" INTEGER NULL,
    "AuthenticatedAt" INTEGER NULL
);


CREATE TABLE "Clients" (
    "ClientId" TEXT NOT NULL CONSTRAINT "PK_Clients" PRIMARY KEY,
    "SecretHash" BLOB NULL,
    "Type" TEXT NOT NULL,
    "DisplayName" TEXT NOT NULL,
    "AllowedGrantTypes" TEXT NOT NULL,
    "AllowedScopes" TEXT NOT NULL,
    "RedirectUris" TEXT NOT NULL,
    "PostLogoutRedirectUris" TEXT NOT NULL,
    "AllowedCorsOrigins" TEXT NOT NULL,
    "AllowIntrospection" INTEGER NOT NULL,
    "RequireConsent" INTEGER NOT NULL,
    "AccessTokenFormat" TEXT NOT NULL,
    "AccessTokenLifetime" TEXT NULL,
    "RefreshTokenLifetime" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "UpdatedAt" INTEGER NOT NULL
);


CREATE TABLE "DataProtectionKeys" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_DataProtectionKeys" PRIMARY KEY AUTOINCREMENT,
    "FriendlyName" TEXT NULL,
    "Xml" TEXT NOT NULL
);


CREATE TABLE "JobLeases" (
    "Name" TEXT NOT NULL CONSTRAINT "PK_JobLeases" PRIMARY KEY,
    "LastStartedAt" INTEGER NOT NULL,
    "LastResult" TEXT NULL
);


CREATE TABLE "OutboxMessages" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_OutboxMessages" PRIMARY KEY,
    "To" TEXT NOT NULL,
    "Subject" TEXT NOT NULL,
    "TextBody" TEXT NOT NULL,
    "HtmlBody" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "NextAttemptAt" INTEGER NOT NULL,
    "Attempts" INTEGER NOT NULL,
    "LastError" TEXT NULL,
    "ClaimedUntil" INTEGER NULL,
    "SentAt" INTEGER NULL
);


CREATE TABLE "SigningKeys" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_SigningKeys" PRIMARY KEY,
    "Algorithm" TEXT NOT NULL,
    "ProtectedPrivateKey" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ActivatesAt" INTEGER NOT NULL,
    "RetiresAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NOT NULL
);


CREATE TABLE "Tokens" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Tokens" PRIMARY KEY,
    "AuthorizationId" TEXT NULL,
    "ClientId" TEXT NOT NULL,
    "SubjectId" TEXT NOT NULL,
    "Type" TEXT NOT NULL,
    "Status" TEXT NOT NULL,
    "Hash" BLOB NULL,
    "Scopes" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NOT NULL,
    "RedeemedAt" INTEGER NULL,
    "SuccessorSeed" BLOB NULL,
    "Payload" TEXT NULL
);


CREATE TABLE "AspNetRoleClaims" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AspNetRoleClaims" PRIMARY KEY AUTOINCREMENT,
    "RoleId" TEXT NOT NULL,
    "ClaimType" TEXT NULL,
    "ClaimValue" TEXT NULL,
    CONSTRAINT "FK_AspNetRoleClaims_AspNetRoles_RoleId" FOREIGN KEY ("RoleId") REFERENCES "AspNetRoles" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AccountTokens" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AccountTokens" PRIMARY KEY,
    "UserId" TEXT NOT NULL,
    "Purpose" TEXT NOT NULL,
    "Hash" BLOB NOT NULL,
    "Email" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NOT NULL,
    "UsedAt" INTEGER NULL,
    CONSTRAINT "FK_AccountTokens_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AspNetUserClaims" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AspNetUserClaims" PRIMARY KEY AUTOINCREMENT,
    "UserId" TEXT NOT NULL,
    "ClaimType" TEXT NULL,
    "ClaimValue" TEXT NULL,
    CONSTRAINT "FK_AspNetUserClaims_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AspNetUserLogins" (
    "LoginProvider" TEXT NOT NULL,
    "ProviderKey" TEXT NOT NULL,
    "ProviderDisplayName" TEXT NULL,
    "UserId" TEXT NOT NULL,
    CONSTRAINT "PK_AspNetUserLogins" PRIMARY KEY ("LoginProvider", "ProviderKey"),
    CONSTRAINT "FK_AspNetUserLogins_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AspNetUserRoles" (
    "UserId" TEXT NOT NULL,
    "RoleId" TEXT NOT NULL,
    CONSTRAINT "PK_AspNetUserRoles" PRIMARY KEY ("UserId", "RoleId"),
    CONSTRAINT "FK_AspNetUserRoles_AspNetRoles_RoleId" FOREIGN KEY ("RoleId") REFERENCES "AspNetRoles" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_AspNetUserRoles_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AspNetUserTokens" (
    "UserId" TEXT NOT NULL,
    "LoginProvider" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Value" TEXT NULL,
    CONSTRAINT "PK_AspNetUserTokens" PRIMARY KEY ("UserId", "LoginProvider", "Name"),
    CONSTRAINT "FK_AspNetUserTokens_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);


CREATE UNIQUE INDEX "IX_AccountTokens_Hash" ON "AccountTokens" ("Hash");


CREATE INDEX "IX_AccountTokens_UserId_Purpose" ON "AccountTokens" ("UserId", "Purpose");


CREATE INDEX "IX_AspNetRoleClaims_RoleId" ON "AspNetRoleClaims" ("RoleId");


CREATE UNIQUE INDEX "RoleNameIndex" ON "AspNetRoles" ("NormalizedName");


CREATE INDEX "IX_AspNetUserClaims_UserId" ON "AspNetUserClaims" ("UserId");


CREATE INDEX "IX_AspNetUserLogins_UserId" ON "AspNetUserLogins" ("UserId");


CREATE INDEX "IX_AspNetUserRoles_RoleId" ON "AspNetUserRoles" ("RoleId");


CREATE UNIQUE INDEX "EmailIndex" ON "AspNetUsers" ("NormalizedEmail");


CREATE UNIQUE INDEX "UserNameIndex" ON "AspNetUsers" ("NormalizedUserName");


CREATE INDEX "IX_Authorizations_CreatedAt" ON "Authorizations" ("CreatedAt");


CREATE INDEX "IX_Authorizations_SubjectId_ClientId" ON "Authorizations" ("SubjectId", "ClientId");


CREATE INDEX "IX_OutboxMessages_SentAt_NextAttemptAt" ON "OutboxMessages" ("SentAt", "NextAttemptAt");


CREATE INDEX "IX_Tokens_AuthorizationId" ON "Tokens" ("AuthorizationId");


CREATE INDEX "IX_Tokens_ExpiresAt" ON "Tokens" ("ExpiresAt");


CREATE UNIQUE INDEX "IX_Tokens_Hash" ON "Tokens" ("Hash");


CREATE INDEX "IX_Tokens_SubjectId_Type" ON "Tokens" ("SubjectId", "Type");


