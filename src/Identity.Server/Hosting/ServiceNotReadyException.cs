namespace Identity.Server.Hosting;

/// <summary>Something the server needs is not there yet (a migration pending): answer 503 and let the client retry.</summary>
internal sealed class ServiceNotReadyException(string message) : Exception(message);
