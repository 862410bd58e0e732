using System.Diagnostics;
using System.Security.Cryptography;

namespace Identity.Bench;

/// <summary>The machine's ceiling for what Certify must do cryptographically: verify a CSR and sign a leaf.</summary>
internal static class CryptoLimit
{
    /// <summary>The line every bench report prints for <paramref name="opsPerSecond"/>.</summary>
    public static string Describe(double opsPerSecond) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"crypto limit: {opsPerSecond:F0} ops/s (one ECDSA P-256 verify + one sign per op, all cores)");

    /// <summary>Operations per second on all cores, one op = one ECDSA P-256 verify + one sign (SHA-256).</summary>
    public static double Measure(TimeSpan duration)
    {
        using var csrKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var data = RandomNumberGenerator.GetBytes(400); // about the size of a leaf's TBSCertificate
        var signature = csrKey.SignData(data, HashAlgorithmName.SHA256);
        long ops = 0;
        var stopwatch = Stopwatch.StartNew();
        Parallel.For(0, Environment.ProcessorCount, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, _ =>
        {
            long local = 0;
            while (stopwatch.Elapsed < duration)
            {
                if (!csrKey.VerifyData(data, signature, HashAlgorithmName.SHA256))
                {
                    throw new CryptographicException("verify failed");
                }

                issuerKey.SignData(data, HashAlgorithmName.SHA256);
                local++;
            }

            Interlocked.Add(ref ops, local);
        });
        return ops / stopwatch.Elapsed.TotalSeconds;
    }
}
