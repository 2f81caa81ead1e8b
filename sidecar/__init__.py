"""nordic_dunning sidecar: keeps collection cases in Odoo and at collection agencies in step."""
