using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

// The ceilings the server's figures are compared with: what the machine does of the work a request cannot avoid, on
// one thread and on every core at once (two vCPUs are not twice one: they may share a physical core).
var iterations = args.Length > 0 ? int.Parse(args[0]) : 210_000;
var seconds = args.Length > 1 ? double.Parse(args[1]) : 3;

var hasher = new PasswordHasher<object>(Options.Create(new PasswordHasherOptions { IterationCount = iterations }));
var hash = hasher.HashPassword(new object(), "correct horse battery staple");
var payload = Encoding.UTF8.GetBytes(new string('x', 400));
using var rsa = RSA.Create(2048);
using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);

void Verify() => hasher.VerifyHashedPassword(new object(), hash, "correct horse battery staple");
void SignRs256() => rsa.SignData(payload, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
void SignEs256() => ec.SignData(payload, HashAlgorithmName.SHA256);
var results = new Dictionary<string, double>
{
    [$"password_hash_verify_per_core_{iterations}"] = Rate(Verify),
    ["password_hash_verify_total"] = AllCores(Verify),
    ["rs256_sign_per_core"] = Rate(SignRs256),
    ["rs256_sign_total"] = AllCores(SignRs256),
    ["es256_sign_per_core"] = Rate(SignEs256),
    ["es256_sign_total"] = AllCores(SignEs256),
};
Console.WriteLine(JsonSerializer.Serialize(results));

double AllCores(Action work) =>
    Math.Round(Enumerable.Range(0, Environment.ProcessorCount).AsParallel().WithDegreeOfParallelism(Environment.ProcessorCount)
        .Select(_ => Rate(work)).Sum(), 1);

double Rate(Action work)
{
    work();
    var clock = Stopwatch.StartNew();
    var count = 0;
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        work();
        count++;
    }
    return Math.Round(count / clock.Elapsed.TotalSeconds, 1);
}
