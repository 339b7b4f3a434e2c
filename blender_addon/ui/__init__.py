"""What the user sees and sets: the property groups, the add-on preferences and the sidebar panel."""
