using Identity.Pki.Files;

namespace Identity.Cli.Cert;

/// <summary>Writes the key, then the certificate, with no half-done result on failure.</summary>
internal static class OutputFiles
{
    public static void WriteKeyThenCertificate(string? keyPath, string? keyPem, string crtPath, string crtPem, bool force)
    {
        // Refuse before writing anything, so an existing certificate does not leave a fresh orphan key behind.
        if (!force)
        {
            foreach (var path in new[] { keyPath, crtPath })
            {
                if (path is not null && (File.Exists(path) || Directory.Exists(path)))
                {
                    throw new Identity.Pki.PkiException($"{path} already exists: use --force to overwrite it");
                }
            }
        }

        var keyExisted = keyPath is not null && File.Exists(keyPath);
        if (keyPath is not null && keyPem is not null)
        {
            SecureFile.WriteText(keyPath, keyPem, force);
        }

        try
        {
            SecureFile.WriteText(crtPath, crtPem, force);
        }
        catch
        {
            if (keyPath is not null && keyPem is not null && !keyExisted)
            {
                SecureFile.TryDelete(keyPath);
            }

            throw;
        }
    }
}
