"""The analysts' dashboard (Streamlit) over the published marts: `make dashboard`."""
