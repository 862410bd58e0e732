using System.Text;

namespace Identity.Server.Tests;

/// <summary>The server tests' mesh (trust domain, identities) and how the kubelet lays out the issuer Secret on disk.</summary>
internal static class ServerFixtures
{
    public const string TrustDomain = "cluster.local";
    public const string ControllerNamespace = "linkerd";

    public static string IdentityOf(string sa, string ns) => $"{sa}.{ns}.serviceaccount.identity.{ControllerNamespace}.{TrustDomain}";

    /// <summary>Writes the issuer file the Kubernetes way: timestamped dir, ..data symlink, file symlinks.</summary>
    public static void WriteKubernetesIssuer(string directory, string crtPem, string keyPem, string crtName = "crt.pem", string keyName = "key.pem")
    {
        Directory.CreateDirectory(directory);
        var stamp = $"..{DateTime.UtcNow:yyyy_MM_dd_HH_mm_ss}.{Guid.NewGuid():N}";
        var target = Path.Combine(directory, stamp);
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, keyName), keyPem);
        File.WriteAllText(Path.Combine(target, crtName), crtPem);
        var tmp = Path.Combine(directory, "..data_tmp");
        if (File.Exists(tmp) || Directory.Exists(tmp))
        {
            File.Delete(tmp);
        }

        File.CreateSymbolicLink(tmp, stamp);
        var data = Path.Combine(directory, "..data");
        var old = new FileInfo(data).LinkTarget;
        // rename(2) over the old link, the atomic swap the kubelet's atomic writer does (File.Move refuses a
        // symlink to a directory as its source, so use mv -T, which is a plain rename).
        using (var mv = System.Diagnostics.Process.Start("/bin/mv", ["-T", tmp, data]))
        {
            mv.WaitForExit();
            if (mv.ExitCode != 0)
            {
                throw new IOException($"mv -T {tmp} {data} failed");
            }
        }
        foreach (var name in new[] { crtName, keyName })
        {
            var link = Path.Combine(directory, name);
            if (!File.Exists(link) && new FileInfo(link).LinkTarget is null)
            {
                File.CreateSymbolicLink(link, Path.Combine("..data", name));
            }
        }

        if (old is not null && old != stamp)
        {
            Directory.Delete(Path.Combine(directory, old), recursive: true);
        }
    }

    public static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
