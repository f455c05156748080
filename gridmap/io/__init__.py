"""Reading and writing layers: formats, encodings, headers and layer names."""
