using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Pki.Certificates;

/// <summary>Builds step's subject: one RDN, <c>CN=&lt;subject&gt;</c>, string type chosen as Go does.</summary>
public static class SubjectName
{
    /// <summary>
    /// <c>CN=&lt;commonName&gt;</c> as PrintableString when every character is in the strict PrintableString set
    /// (<c>A-Z a-z 0-9 space ' ( ) + , - . / : = ?</c>), otherwise UTF8String — what Go's encoder does.
    /// </summary>
    public static X500DistinguishedName CommonName(string commonName)
    {
        ArgumentNullException.ThrowIfNull(commonName);
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSetOf())
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(Keys.Oids.CommonName);
                    writer.WriteCharacterString(
                        IsPrintable(commonName) ? UniversalTagNumber.PrintableString : UniversalTagNumber.UTF8String,
                        commonName);
                }
            }
        }

        return new X500DistinguishedName(writer.Encode());
    }

    /// <summary>Whether Go would encode <paramref name="value"/> as a PrintableString.</summary>
    public static bool IsPrintable(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        foreach (var c in value)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
                or ' ' or '\'' or '(' or ')' or '+' or ',' or '-' or '.' or '/' or ':' or '=' or '?';
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
