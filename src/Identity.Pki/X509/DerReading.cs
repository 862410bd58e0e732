using System.Formats.Asn1;

namespace Identity.Pki.X509;

/// <summary>
/// The few DER reading rules every decoder here shares: which string types are text, and reading one value of a
/// known shape without letting the reader's own exceptions escape.
/// </summary>
internal static class DerReading
{
    /// <summary>
    /// The string types <see cref="AsnReader.ReadCharacterString(UniversalTagNumber, Asn1Tag?)"/> can decode.
    /// UniversalString, GeneralString and GraphicString are not among them (the reader throws
    /// ArgumentOutOfRangeException for those), so they are treated as non-text values.
    /// </summary>
    public static bool IsText(Asn1Tag tag) =>
        tag.TagClass == TagClass.Universal && !tag.IsConstructed && (UniversalTagNumber)tag.TagValue is UniversalTagNumber.UTF8String
            or UniversalTagNumber.PrintableString or UniversalTagNumber.IA5String or UniversalTagNumber.T61String
            or UniversalTagNumber.BMPString or UniversalTagNumber.NumericString or UniversalTagNumber.VisibleString;

    /// <summary>A short name for a string type, for messages.</summary>
    public static string TypeName(Asn1Tag tag) => tag.TagClass == TagClass.Universal
        ? ((UniversalTagNumber)tag.TagValue).ToString()
        : $"[{tag.TagClass} {tag.TagValue}]";

    /// <summary>Reads an AlgorithmIdentifier: the OID and the raw parameters, if any.</summary>
    public static (string Oid, ReadOnlyMemory<byte>? Parameters) ReadAlgorithm(AsnReader reader)
    {
        var algorithm = reader.ReadSequence();
        var oid = algorithm.ReadObjectIdentifier();
        var parameters = algorithm.HasData ? algorithm.ReadEncodedValue() : (ReadOnlyMemory<byte>?)null;
        algorithm.ThrowIfNotEmpty();
        return (oid, parameters);
    }

    /// <summary>Reads a BIT STRING that must have no unused bits (keys and signatures are whole bytes).</summary>
    public static ReadOnlyMemory<byte>? ReadWholeBytes(AsnReader reader)
    {
        var bits = reader.ReadBitString(out var unused);
        return unused == 0 ? (ReadOnlyMemory<byte>?)bits : null;
    }
}
