//! A port of Go's `text/tabwriter` for the flags kubeadm uses
//! (`NewWriter(out, 10, 4, 3, ' ', 0)`): left-aligned cells padded with
//! spaces, widths counted in runes, column blocks formed by consecutive lines
//! that share a column. Descriptions may hold tabs, vertical tabs, newlines or
//! form feeds, so the whole algorithm is kept rather than a fixed-width table.

/// One cell: its text and its width in runes.
#[derive(Clone, Debug, Default)]
struct Cell {
    text: String,
    width: usize,
}

/// Buffers text, then lays it out on [`TabWriter::flush`].
pub struct TabWriter {
    minwidth: usize,
    padding: usize,
    lines: Vec<Vec<Cell>>,
    cell: Cell,
    widths: Vec<usize>,
    out: String,
}

impl TabWriter {
    pub fn new(minwidth: usize, padding: usize) -> Self {
        Self {
            minwidth,
            padding,
            lines: vec![Vec::new()],
            cell: Cell::default(),
            widths: Vec::new(),
            out: String::new(),
        }
    }

    /// `Writer.Write`: tab, vertical tab, newline and form feed end a cell;
    /// newline and form feed also end the line; a form feed, or a line of a
    /// single cell, flushes what is buffered (it cannot affect later lines).
    pub fn write(&mut self, text: &str) {
        for ch in text.chars() {
            match ch {
                '\t' | '\u{b}' | '\n' | '\u{c}' => {
                    let ncells = self.terminate_cell();
                    if ch == '\n' || ch == '\u{c}' {
                        self.lines.push(Vec::new());
                        if ch == '\u{c}' || ncells == 1 {
                            self.flush_buffered();
                        }
                    }
                }
                _ => {
                    self.cell.text.push(ch);
                    self.cell.width += 1;
                }
            }
        }
    }

    /// Lays out everything buffered and returns the text written so far.
    pub fn flush(mut self) -> String {
        self.flush_buffered();
        self.out
    }

    fn terminate_cell(&mut self) -> usize {
        let cell = std::mem::take(&mut self.cell);
        let line = self
            .lines
            .last_mut()
            .expect("lines always holds the current line");
        line.push(cell);
        line.len()
    }

    fn flush_buffered(&mut self) {
        if !self.cell.text.is_empty() {
            self.terminate_cell();
        }
        let n = self.lines.len();
        self.format(0, n);
        self.lines = vec![Vec::new()];
        self.cell = Cell::default();
    }

    /// Go's `Writer.format`: find each column block, fix its width, and
    /// recurse into the columns to its right.
    fn format(&mut self, mut line0: usize, line1: usize) {
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            self.write_lines(line0, this);
            line0 = this;
            let mut width = self.minwidth;
            while this < line1 {
                let line = &self.lines[this];
                if column + 1 >= line.len() {
                    break;
                }
                width = width.max(line[column].width + self.padding);
                this += 1;
            }
            self.widths.push(width);
            self.format(line0, this);
            self.widths.pop();
            line0 = this;
        }
        self.write_lines(line0, line1);
    }

    fn write_lines(&mut self, line0: usize, line1: usize) {
        for i in line0..line1 {
            for (j, c) in self.lines[i].iter().enumerate() {
                self.out.push_str(&c.text);
                if let Some(&w) = self.widths.get(j) {
                    self.out
                        .extend(std::iter::repeat_n(' ', w.saturating_sub(c.width)));
                }
            }
            // The last buffered line has no newline of its own yet.
            if i + 1 < self.lines.len() {
                self.out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tab(s: &str) -> String {
        let mut w = TabWriter::new(10, 3);
        w.write(s);
        w.flush()
    }

    #[test]
    fn columns_take_the_widest_cell_plus_padding_or_the_minimum() {
        assert_eq!(
            tab("a\tb\tc\nlonger-cell\tx\ty\n"),
            "a             b         c\nlonger-cell   x         y\n"
        );
    }

    #[test]
    fn widths_count_runes_not_bytes() {
        assert_eq!(tab("ééé\tx\nab\ty\n"), "ééé       x\nab        y\n");
    }

    #[test]
    fn a_line_with_fewer_cells_ends_the_column_block() {
        assert_eq!(
            tab("a\tb\tc\nno tabs here\nlonger-cell\tb\tc\n"),
            "a         b         c\nno tabs here\nlonger-cell   b         c\n"
        );
    }
}
