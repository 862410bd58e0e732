using System.Security.Cryptography;
using System.Text;
using Identity.Pki.Pem;

namespace Identity.Pki.Keys;

/// <summary>
/// OpenSSL's traditional PEM encryption (<c>Proc-Type: 4,ENCRYPTED</c> + <c>DEK-Info</c>), as written by
/// <c>openssl ec -aes256</c> and Go's <c>x509.EncryptPEMBlock</c> (which step uses for EC and RSA keys).
/// The key derivation is EVP_BytesToKey with MD5, one iteration, salt = the first 8 bytes of the IV.
/// The BCL has neither the KDF nor the header format; the construction is small enough to express with
/// platform primitives (MD5, AES, 3DES) rather than pull the whole BouncyCastle PEM stack in.
/// </summary>
internal static class LegacyPemEncryption
{
    public const string ProcTypeHeader = "Proc-Type";
    public const string DekInfoHeader = "DEK-Info";

    public static bool IsEncrypted(PemBlock block) =>
        block.Header(ProcTypeHeader) is { } procType && procType.Contains("ENCRYPTED", StringComparison.OrdinalIgnoreCase);

    /// <summary>Encrypts with AES-256-CBC and a random IV, the way step writes EC/RSA keys.</summary>
    public static PemBlock Encrypt(string label, byte[] der, byte[] password)
    {
        var iv = RandomNumberGenerator.GetBytes(16);
        var key = DeriveKey(password, iv.AsSpan(0, 8), 32);
        using var aes = Aes.Create();
        aes.Key = key;
        var encrypted = aes.EncryptCbc(der, iv, PaddingMode.PKCS7);
        CryptographicOperations.ZeroMemory(key);
        return new PemBlock(
            label,
            [new(ProcTypeHeader, "4,ENCRYPTED"), new(DekInfoHeader, "AES-256-CBC," + Convert.ToHexStringLower(iv))],
            encrypted);
    }

    /// <summary>Decrypts the block body; the result is the plain DER of the key.</summary>
    /// <exception cref="PkiException">Unsupported cipher, malformed header, or wrong password.</exception>
    public static byte[] Decrypt(PemBlock block, byte[] password, string source)
    {
        var dekInfo = block.Header(DekInfoHeader)
            ?? throw new PkiException($"error decrypting {source}: encrypted PEM block has no DEK-Info header");
        var parts = dekInfo.Split(',', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2)
        {
            throw new PkiException($"error decrypting {source}: malformed DEK-Info header '{dekInfo}'");
        }

        byte[] iv;
        try
        {
            iv = Convert.FromHexString(parts[1]);
        }
        catch (FormatException e)
        {
            throw new PkiException($"error decrypting {source}: malformed IV in DEK-Info header", e);
        }

        SymmetricAlgorithm cipher;
        int keyLength;
        switch (parts[0].ToUpperInvariant())
        {
            case "AES-128-CBC":
                cipher = Aes.Create();
                keyLength = 16;
                break;
            case "AES-192-CBC":
                cipher = Aes.Create();
                keyLength = 24;
                break;
            case "AES-256-CBC":
                cipher = Aes.Create();
                keyLength = 32;
                break;
            case "DES-EDE3-CBC":
#pragma warning disable CA5350 // Read-only support: OpenSSL 1.x `-des3` keys still exist; we never write 3DES.
                cipher = TripleDES.Create();
#pragma warning restore CA5350
                keyLength = 24;
                break;
            default:
                throw new PkiException($"error decrypting {source}: unsupported PEM cipher '{parts[0]}'");
        }

        using (cipher)
        {
            if (iv.Length != cipher.BlockSize / 8)
            {
                throw new PkiException($"error decrypting {source}: the DEK-Info IV has the wrong length");
            }

            var key = DeriveKey(password, iv.AsSpan(0, 8), keyLength);
            try
            {
                cipher.Key = key;
                return cipher.DecryptCbc(block.Der, iv, PaddingMode.PKCS7);
            }
            catch (CryptographicException e)
            {
                throw new PkiException($"error decrypting {source}: incorrect password", e);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }
    }

    // EVP_BytesToKey(MD5, count = 1): D_i = MD5(D_{i-1} || password || salt), key = D_1 || D_2 || ...
    private static byte[] DeriveKey(byte[] password, ReadOnlySpan<byte> salt, int length)
    {
        var key = new byte[length];
        var previous = Array.Empty<byte>();
        var offset = 0;
        while (offset < length)
        {
            var input = new byte[previous.Length + password.Length + salt.Length];
            previous.CopyTo(input, 0);
            password.CopyTo(input, previous.Length);
            salt.CopyTo(input.AsSpan(previous.Length + password.Length));
#pragma warning disable CA5351 // MD5 is mandated by the OpenSSL legacy PEM format we must interoperate with.
            previous = MD5.HashData(input);
#pragma warning restore CA5351
            CryptographicOperations.ZeroMemory(input);
            var take = Math.Min(previous.Length, length - offset);
            previous.AsSpan(0, take).CopyTo(key.AsSpan(offset));
            offset += take;
        }

        return key;
    }

    internal static byte[] PasswordBytes(string password) => Encoding.UTF8.GetBytes(password);
}
