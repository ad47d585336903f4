using System.Text;

namespace Apps.Tools.Trust;

/// <summary>Left-aligned columns separated by two spaces, as <c>ls -l</c> or <c>docker ps</c> print.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [headers];

    public void Add(params string[] row) => _rows.Add(row);

    public void WriteTo(TextWriter w)
    {
        int columns = _rows[0].Length;
        var widths = new int[columns];
        foreach (string[] row in _rows)
            for (int i = 0; i < columns; i++) widths[i] = Math.Max(widths[i], row[i].Length);
        var line = new StringBuilder();
        foreach (string[] row in _rows)
        {
            line.Clear();
            for (int i = 0; i < columns; i++)
            {
                line.Append(row[i]);
                if (i < columns - 1) line.Append(' ', widths[i] - row[i].Length + 2);
            }
            w.WriteLine(line.ToString());
        }
    }
}
