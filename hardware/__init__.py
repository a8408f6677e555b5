"""Device ports and their adapters: card readers, ID cards, receipt printers."""
